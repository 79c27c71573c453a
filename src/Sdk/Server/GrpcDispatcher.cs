using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using GrpcPlugins.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace GrpcPlugins.Sdk.Server;

/// <summary>
/// Serves gRPC over Kestrel's HTTP/2 streams without ASP.NET Core's hosting,
/// routing or dependency injection: a worker reaches Ready in a fraction of
/// the time the full gRPC server takes to build (see docs/benchmark-history.md, session 4).
/// Checks the host's per-spawn token on every call (an attached worker has none: its TLS
/// refused every caller without the host's client certificate), applies grpc-timeout, and
/// ends every call with a grpc-status.
/// </summary>
/// <remarks>
/// <paramref name="stopping"/> is the worker's own stop (Shutdown, a signal, stdin closed): a call
/// that fails while the worker shuts its server down (a health probe whose response is torn
/// down under it) is a warning, not an error the host would show as the plugin's fault.
/// </remarks>
internal sealed partial class GrpcDispatcher(string token, int maxMessageSize, TimeProvider time, ILogger logger, CancellationToken stopping = default)
{
    private const string GrpcContentType = "application/grpc";
    private const int MaxStackToken = 256;
    private static readonly Status s_deadlineExceeded = new(StatusCode.DeadlineExceeded, "Deadline Exceeded");
    private readonly byte[] _token = Encoding.UTF8.GetBytes(token);
    private ServerMethodTable? _methods;

    /// <summary>
    /// Serves <paramref name="methods"/> from now on. The worker starts its server while the
    /// plugin is still being built, and hands over the table once it is complete; a call
    /// before that (none can come from the host, which waits for the handshake line) is
    /// answered UNAVAILABLE.
    /// </summary>
    public void Serve(ServerMethodTable methods) => Volatile.Write(ref _methods, methods);

    /// <summary>Serves one HTTP/2 stream (Kestrel's <see cref="KestrelApplication"/> hands each one here).</summary>
    public async Task ProcessRequestAsync(IFeatureCollection features)
    {
        var request = StreamFeatures.Required<IHttpRequestFeature>(features);
        var response = StreamFeatures.Required<IHttpResponseFeature>(features);
        if (!HttpMethods.IsPost(request.Method))
        {
            response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            return;
        }

        if (!IsGrpc(request.Headers.ContentType))
        {
            response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            return;
        }

        response.StatusCode = StatusCodes.Status200OK;
        response.Headers.ContentType = GrpcContentType;
        var aborted = StreamFeatures.Required<IHttpRequestLifetimeFeature>(features).RequestAborted;
        var timeout = GrpcTimeout.Parse(request.Headers[GrpcTimeout.HeaderName]);
        using var deadlineSource = timeout is { } after ? new CancellationTokenSource(after, time) : null;
        using var callSource = deadlineSource is null ? null : CancellationTokenSource.CreateLinkedTokenSource(aborted, deadlineSource.Token);
        var context = new WorkerCallContext(
            request.Path,
            features,
            timeout is { } t ? time.GetUtcNow().UtcDateTime + t : DateTime.MaxValue,
            callSource?.Token ?? aborted);

        Status status;
        Metadata? trailers = null;
        try
        {
            status = await InvokeAsync(request, features, context).ConfigureAwait(false);
        }
        catch (Exception) when (aborted.IsCancellationRequested)
        {
            // The host reset the stream (its own deadline, or its caller left): nobody waits for a status.
            Log.CallAbandoned(logger, request.Path);
            return;
        }
        catch (RpcException ex)
        {
            status = ex.Status;
            trailers = ex.Trailers;
        }
        catch (OperationCanceledException) when (deadlineSource?.IsCancellationRequested == true)
        {
            status = s_deadlineExceeded;
        }
        catch (Exception ex)
        {
            if (stopping.IsCancellationRequested)
            {
                Log.CallFailedWhileStopping(logger, request.Path, ex);
            }
            else
            {
                Log.CallFailed(logger, request.Path, ex);
            }

            status = new Status(StatusCode.Unknown, $"Exception was thrown by handler: {ex.GetType().Name}");
        }

        if (deadlineSource?.IsCancellationRequested == true && status.StatusCode == StatusCode.OK)
        {
            status = s_deadlineExceeded;
        }

        try
        {
            await CompleteAsync(features, context, status, trailers).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException || aborted.IsCancellationRequested)
        {
            // The stream was reset while the status went out: the caller no longer listens.
            Log.CallAbandoned(logger, request.Path);
        }
    }

    private async Task<Status> InvokeAsync(IHttpRequestFeature request, IFeatureCollection features, WorkerCallContext context)
    {
        if (Volatile.Read(ref _methods) is not { } methods)
        {
            return new Status(StatusCode.Unavailable, "this worker is still starting: call it after its handshake line");
        }

        if (!methods.TryGet(request.Path, out var method))
        {
            return new Status(StatusCode.Unimplemented, $"this worker has no method {request.Path}");
        }

        if (!Authorized(request.Headers))
        {
            return new Status(StatusCode.Unauthenticated, $"missing or wrong '{HandshakeEnvironment.TokenMetadataKey}': only the host that spawned this worker may call it");
        }

        // Message size is limited per message; a streamed upload may be longer than Kestrel's default body limit.
        if (StreamFeatures.Find<IHttpMaxRequestBodySizeFeature>(features) is { IsReadOnly: false } bodyLimit)
        {
            bodyLimit.MaxRequestBodySize = null;
        }

        var reader = new GrpcMessageReader(StreamFeatures.Required<IRequestBodyPipeFeature>(features).Reader, maxMessageSize);
        await method.InvokeAsync(reader, new GrpcMessageWriter(context.Body.Writer), context).ConfigureAwait(false);
        return context.Status;
    }

    private static async Task CompleteAsync(IFeatureCollection features, WorkerCallContext context, Status status, Metadata? exceptionTrailers)
    {
        var trailers = StreamFeatures.Required<IHttpResponseTrailersFeature>(features).Trailers;
        if (context.HasResponseTrailers)
        {
            AppendTo(trailers, context.ResponseTrailers);
        }

        if (exceptionTrailers is not null)
        {
            AppendTo(trailers, exceptionTrailers);
        }

        trailers["grpc-status"] = ((int)status.StatusCode).ToString(CultureInfo.InvariantCulture);
        if (!string.IsNullOrEmpty(status.Detail))
        {
            trailers["grpc-message"] = GrpcStatusMessage.Encode(status.Detail);
        }

        // Head, the last messages and the trailers leave in one write.
        await context.Body.CompleteAsync().ConfigureAwait(false);
    }

    private static void AppendTo(IHeaderDictionary headers, Metadata metadata)
    {
        foreach (var entry in metadata)
        {
            headers.Append(entry.Key, entry.IsBinary ? Convert.ToBase64String(entry.ValueBytes) : entry.Value);
        }
    }

    private bool Authorized(IHeaderDictionary headers)
    {
        if (_token.Length == 0)
        {
            // An attached worker: TLS refused every caller without the host's client certificate.
            return true;
        }

        var presented = headers[HandshakeEnvironment.TokenMetadataKey];
        if (presented.Count != 1 || presented[0] is not { } value || Encoding.UTF8.GetByteCount(value) != _token.Length)
        {
            return false;
        }

        // Every call passes here: the presented token is encoded on the stack, not in a new array.
        Span<byte> bytes = _token.Length <= MaxStackToken ? stackalloc byte[MaxStackToken] : new byte[_token.Length];
        bytes = bytes[.._token.Length];
        Encoding.UTF8.GetBytes(value, bytes);
        return CryptographicOperations.FixedTimeEquals(bytes, _token);
    }

    private static bool IsGrpc(string? contentType) =>
        contentType is not null
        && contentType.StartsWith(GrpcContentType, StringComparison.OrdinalIgnoreCase)
        && (contentType.Length == GrpcContentType.Length || contentType[GrpcContentType.Length] is '+' or ';');

    private static partial class Log
    {
        [LoggerMessage(EventId = 5005, EventName = "CallFailed", Level = LogLevel.Error, Message = "Call {Method} failed")]
        public static partial void CallFailed(ILogger logger, string method, Exception exception);

        [LoggerMessage(EventId = 5007, EventName = "CallFailedWhileStopping", Level = LogLevel.Warning, Message = "Call {Method} failed while the worker was stopping")]
        public static partial void CallFailedWhileStopping(ILogger logger, string method, Exception exception);

        [LoggerMessage(EventId = 5006, EventName = "CallAbandoned", Level = LogLevel.Debug, Message = "Call {Method} ended by the host before it finished")]
        public static partial void CallAbandoned(ILogger logger, string method);
    }
}
