using System.Buffers;
using Google.Protobuf;
using Grpc.Core;
using GrpcPlugins.Protocol.V1;
using Microsoft.AspNetCore.Http;

namespace GrpcPlugins.Host.Routes;

/// <summary>
/// One route request's body, offered to its plugin while the route call lasts
/// and copied to it when the plugin asks (PluginHost.ReadHttpBody), once.
/// Why: bytes the host serves reach the worker more than twice as fast as
/// bytes the host sends into the worker's HTTP/2 server (docs/benchmarks.md).
/// </summary>
internal sealed class PulledBody(string id, string pluginId, Stream body, long maxBody, CancellationTokenSource call, Action onTooLarge, Action withdraw) : IAsyncDisposable
{
    private const int ChunkSize = 64 * 1024;
    private const int Open = 0;
    private const int Claimed = 1;
    private const int Ended = 2;

    private readonly CancellationTokenSource _ended = new();
    private readonly TaskCompletionSource _pumped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _state;

    public string Id { get; } = id;

    public string PluginId { get; } = pluginId;

    /// <summary>Takes the body for one reader; the refusal's status when it cannot be.</summary>
    public Status? Claim() => Interlocked.CompareExchange(ref _state, Claimed, Open) switch
    {
        Open => null,
        Claimed => new Status(StatusCode.FailedPrecondition, $"the request body '{Id}' is already being read; a body can be read once"),
        _ => new Status(StatusCode.NotFound, $"the route call of request body '{Id}' has ended"),
    };

    /// <summary>
    /// Copies the body to the plugin as it arrives. The client failing, or sending
    /// more than the limit, ends the route call as it would a streamed body; the
    /// route call ending stops the copy. Only after <see cref="Claim"/> succeeded.
    /// </summary>
    public async Task PumpAsync(IServerStreamWriter<HttpBodyChunk> chunks, CancellationToken readerGone)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(readerGone, _ended.Token, call.Token);
            long total = 0;
            while (true)
            {
                var read = await ReadClientAsync(buffer, stop).ConfigureAwait(false);
                if (read == 0)
                {
                    return;
                }

                total += read;
                if (total > maxBody)
                {
                    onTooLarge();
                    await call.CancelAsync().ConfigureAwait(false);
                    throw new RpcException(new Status(StatusCode.OutOfRange, $"the request body is over this plugin's limit of {maxBody} bytes; the client is answered 413"));
                }

                // The message is serialized before the write completes, so the rented buffer may back it.
                await chunks.WriteAsync(new HttpBodyChunk { Data = UnsafeByteOperations.UnsafeWrap(buffer.AsMemory(0, read)) }, stop.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!readerGone.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.Cancelled, "the route call this request body belongs to has ended"));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            _pumped.TrySetResult();
        }
    }

    private async ValueTask<int> ReadClientAsync(byte[] buffer, CancellationTokenSource stop)
    {
        try
        {
            return await body.ReadAsync(buffer.AsMemory(0, ChunkSize), stop.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or BadHttpRequestException || (ex is OperationCanceledException && !stop.IsCancellationRequested))
        {
            // As with a streamed body: the client failing ends the route call.
            await call.CancelAsync().ConfigureAwait(false);
            throw new RpcException(new Status(StatusCode.Cancelled, "the client ended the request before its body was sent: " + ex.Message));
        }
    }

    /// <summary>
    /// Withdraws the offer and, if the plugin is reading, stops the copy and waits
    /// for it: the request's body must not be touched once the route call returns.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        var prior = Interlocked.Exchange(ref _state, Ended);
        if (prior == Ended)
        {
            return;
        }

        withdraw();
        if (prior == Claimed)
        {
            await _ended.CancelAsync().ConfigureAwait(false);
            await _pumped.Task.ConfigureAwait(false);
        }

        _ended.Dispose();
    }
}
