using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using Grpc.Core;
using GrpcPlugins.Protocol;

namespace GrpcPlugins.Supervisor.Connection;

/// <summary>
/// A server-streaming gRPC call made straight over the worker connection's HTTP/2 client, for
/// the one call on every route's path (HandleHttpBuffered): the same messages, status and
/// trailers as Grpc.Net.Client's call, with fewer headers (no user-agent or grpc-accept-encoding)
/// and the request's length declared, at about two thirds of its CPU and allocations a call
/// (docs/benchmarks.md, "Routes against YARP"). Failures come out as Grpc.Net.Client's would, as
/// <see cref="RpcException"/>s with the same status codes, so a caller handles both alike.
/// </summary>
internal sealed class DirectServerStreamingCall<TResponse> : IAsyncStreamReader<TResponse>, IDisposable
    where TResponse : class, IMessage<TResponse>
{
    private const int PrefixLength = GrpcFrame.PrefixLength;
    private static readonly MediaTypeHeaderValue s_grpcContentType = new("application/grpc");

    private readonly MessageParser<TResponse> _parser;
    private readonly CancellationToken _cancellationToken;
    private readonly Task<HttpResponseMessage> _response;
    private PipeReader? _body;
    private bool _statusInHeaders;
    private bool _ended;

    public DirectServerStreamingCall(HttpMessageInvoker http, string path, string? token, IMessage request, MessageParser<TResponse> parser, CancellationToken cancellationToken)
    {
        _parser = parser;
        _cancellationToken = cancellationToken;
        var message = new HttpRequestMessage(HttpMethod.Post, new Uri("http://localhost" + path))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(Frame(request)) { Headers = { ContentType = s_grpcContentType } },
        };
        message.Headers.TryAddWithoutValidation("te", "trailers");
        if (token is not null)
        {
            message.Headers.TryAddWithoutValidation(HandshakeEnvironment.TokenMetadataKey, token);
        }

        _response = http.SendAsync(message, cancellationToken);
    }

    public TResponse Current { get; private set; } = null!;

    public async Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        if (_ended)
        {
            return false;
        }

        // The forwarder reads with the call's own token; another one is honoured beside it.
        using var linked = cancellationToken.CanBeCanceled && cancellationToken != _cancellationToken
            ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _cancellationToken)
            : null;
        var token = linked?.Token ?? _cancellationToken;
        try
        {
            var body = _body ??= await StartAsync().ConfigureAwait(false);
            while (true)
            {
                var result = await body.ReadAsync(token).ConfigureAwait(false);
                var buffer = result.Buffer;
                if (TryReadMessage(ref buffer, out var message))
                {
                    body.AdvanceTo(buffer.Start, buffer.Start);
                    Current = message;
                    return true;
                }

                if (result.IsCompleted)
                {
                    body.AdvanceTo(buffer.End);
                    if (!buffer.IsEmpty)
                    {
                        throw new RpcException(new Status(StatusCode.Internal, $"the worker's answer ended inside a message ({buffer.Length} bytes of a frame)"));
                    }

                    _ended = true;
                    if (!_statusInHeaders)
                    {
                        ThrowIfFailed(_response.Result.TrailingHeaders, "the worker's answer ended without a grpc-status trailer");
                    }

                    return false;
                }

                body.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        catch (OperationCanceledException ex) when (token.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.Cancelled, "Call canceled by the client.", ex));
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            // A refused or lost connection, a reset stream: as Grpc.Net.Client reports them.
            throw new RpcException(new Status(StatusCode.Unavailable, $"Error reading from the worker. {ex.GetType().Name}: {ex.Message}", ex));
        }
    }

    public void Dispose()
    {
        // Its pooled buffers go back; an answer not read to its end is reset, as a disposed gRPC call is.
        _body?.Complete();
        if (_response.IsCompletedSuccessfully)
        {
            _response.Result.Dispose();
        }
        else
        {
            // Disposed before its answer came (a caller that never read it): the answer is
            // dropped when it comes, and a failure to send is observed, not left to the finalizer.
            _response.ContinueWith(
                static t =>
                {
                    if (t.IsCompletedSuccessfully)
                    {
                        t.Result.Dispose();
                    }
                    else
                    {
                        _ = t.Exception;
                    }
                },
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
    }

    private static byte[] Frame(IMessage request)
    {
        var size = request.CalculateSize();
        var framed = new byte[PrefixLength + size];
        GrpcFrame.WritePrefix(framed, size);
        request.WriteTo(framed.AsSpan(PrefixLength));
        return framed;
    }

    private async Task<PipeReader> StartAsync()
    {
        var response = await _response.ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new RpcException(new Status(StatusOf(response.StatusCode), $"Bad gRPC response. HTTP status code: {(int)response.StatusCode}"));
        }

        if (response.Content.Headers.ContentType?.MediaType?.StartsWith("application/grpc", StringComparison.Ordinal) != true)
        {
            throw new RpcException(new Status(StatusCode.Internal, $"Bad gRPC response. Invalid content-type value: {response.Content.Headers.ContentType}"));
        }

        // A status in the headers is a trailers-only answer: the call ended before any message.
        ThrowIfFailed(response.Headers, missing: null);
        _statusInHeaders = response.Headers.Contains("grpc-status");
        return PipeReader.Create(await response.Content.ReadAsStreamAsync(_cancellationToken).ConfigureAwait(false));
    }

    private bool TryReadMessage(ref ReadOnlySequence<byte> buffer, out TResponse message)
    {
        message = null!;
        if (!GrpcFrame.TryReadPrefix(buffer, out var compressed, out var length))
        {
            return false;
        }

        if (compressed)
        {
            throw new RpcException(new Status(StatusCode.Internal, "the worker sent a compressed message, which the host never asks for"));
        }

        if (length > UnixSocketChannel.MaxMessageBytes)
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted, $"Received message exceeds the maximum configured message size ({length} bytes, the limit {UnixSocketChannel.MaxMessageBytes})."));
        }

        if (buffer.Length < PrefixLength + length)
        {
            return false;
        }

        try
        {
            message = _parser.ParseFrom(buffer.Slice(PrefixLength, length));
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new RpcException(new Status(StatusCode.Internal, $"the worker's answer is not a {typeof(TResponse).Name}: {ex.Message}"));
        }

        buffer = buffer.Slice(PrefixLength + length);
        return true;
    }

    /// <summary>Throws the call's status when it is not OK; <paramref name="missing"/>, when given, is the error for no status at all.</summary>
    private static void ThrowIfFailed(HttpHeaders headers, string? missing)
    {
        if (!headers.TryGetValues("grpc-status", out var values))
        {
            if (missing is not null)
            {
                throw new RpcException(new Status(StatusCode.Internal, missing));
            }

            return;
        }

        var text = values.FirstOrDefault();
        if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var code))
        {
            throw new RpcException(new Status(StatusCode.Internal, $"the worker's grpc-status '{text}' is not a number"));
        }

        if (code != 0)
        {
            var detail = headers.TryGetValues("grpc-message", out var messages) ? Uri.UnescapeDataString(messages.FirstOrDefault() ?? string.Empty) : string.Empty;
            throw new RpcException(new Status((StatusCode)code, detail));
        }
    }

    /// <summary>gRPC's mapping of an HTTP status that is not 200 (doc/http-grpc-status-mapping.md).</summary>
    private static StatusCode StatusOf(HttpStatusCode status) => status switch
    {
        HttpStatusCode.BadRequest => StatusCode.Internal,
        HttpStatusCode.Unauthorized => StatusCode.Unauthenticated,
        HttpStatusCode.Forbidden => StatusCode.PermissionDenied,
        HttpStatusCode.NotFound => StatusCode.Unimplemented,
        HttpStatusCode.TooManyRequests or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout => StatusCode.Unavailable,
        _ => StatusCode.Unknown,
    };
}
