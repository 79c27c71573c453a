using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using Grpc.Core;
using GrpcPlugins.Protocol;

namespace GrpcPlugins.Supervisor.Connection;

/// <summary>
/// A gRPC call with one request message, made straight over the worker connection's HTTP/2
/// client, its answer read as a stream of messages (one for a unary call): the calls on every
/// route's and every hook's path (HandleHttpBuffered, InvokeHook). The same messages, status and
/// trailers as Grpc.Net.Client's call, with fewer headers (no user-agent or grpc-accept-encoding)
/// and the request's length declared, at about two thirds of its CPU and allocations a call
/// (docs/benchmarks.md, "Routes against YARP"). Failures come out as Grpc.Net.Client's would, as
/// <see cref="RpcException"/>s with the same status codes, so a caller handles both alike.
/// </summary>
internal sealed class DirectGrpcCall<TResponse> : IAsyncStreamReader<TResponse>, IDisposable
    where TResponse : class, IMessage<TResponse>
{
    private const int PrefixLength = GrpcFrame.PrefixLength;

    // A route's usual answer (head and a short body) is one read of this.
    private const int InitialBufferBytes = 16 * 1024;
    private static readonly MediaTypeHeaderValue s_grpcContentType = new("application/grpc");

    private readonly MessageParser<TResponse> _parser;
    private readonly CancellationToken _cancellationToken;
    private readonly Task<HttpResponseMessage> _response;
    private Stream? _body;
    private byte[] _buffer = [];
    private int _start;
    private int _end;
    private int _wanted;
    private volatile bool _reading;
    private bool _statusInHeaders;
    private bool _ended;

    /// <summary>Starts the call of the method at <paramref name="method"/> (http://localhost/{service}/{method}).</summary>
    public DirectGrpcCall(HttpMessageInvoker http, Uri method, string? token, IMessage request, MessageParser<TResponse> parser, CancellationToken cancellationToken)
    {
        _parser = parser;
        _cancellationToken = cancellationToken;
        var size = request.CalculateSize();
        if (size > UnixSocketChannel.MaxMessageBytes)
        {
            // Refused before a byte is sent, as Grpc.Net.Client refuses it, and reported where
            // its failure would be: on reading the answer.
            _response = Task.FromException<HttpResponseMessage>(new RpcException(new Status(
                StatusCode.ResourceExhausted,
                $"Sending message exceeds the maximum configured message size ({size} bytes, the limit {UnixSocketChannel.MaxMessageBytes}).")));
            return;
        }

        var message = new HttpRequestMessage(HttpMethod.Post, method)
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(Frame(request, size)) { Headers = { ContentType = s_grpcContentType } },
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
                if (TryReadMessage(out var message))
                {
                    Current = message;
                    return true;
                }

                MakeRoom();
                int read;
                _reading = true;
                try
                {
                    read = await body.ReadAsync(_buffer.AsMemory(_end), token).ConfigureAwait(false);
                }
                finally
                {
                    _reading = false;
                }

                if (read == 0)
                {
                    if (_end > _start)
                    {
                        throw new RpcException(new Status(StatusCode.Internal, $"the worker's answer ended inside a message ({_end - _start} bytes of a frame)"));
                    }

                    _ended = true;
                    if (!_statusInHeaders)
                    {
                        ThrowIfFailed(_response.Result.TrailingHeaders, "the worker's answer ended without a grpc-status trailer");
                    }

                    return false;
                }

                _end += read;
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
        _body?.Dispose();
        // A read still pending (a caller that stopped waiting for it) may yet write into the
        // buffer: then it is left to the collector rather than handed to another renter.
        if (_buffer.Length > 0 && !_reading)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }

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

    private static byte[] Frame(IMessage request, int size)
    {
        var framed = new byte[PrefixLength + size];
        GrpcFrame.WritePrefix(framed, size);
        request.WriteTo(framed.AsSpan(PrefixLength));
        return framed;
    }

    private async Task<Stream> StartAsync()
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
        _statusInHeaders = ThrowIfFailed(response.Headers, missing: null);
        _buffer = ArrayPool<byte>.Shared.Rent(InitialBufferBytes);
        return await response.Content.ReadAsStreamAsync(_cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The next whole message in the buffer, if one has arrived.</summary>
    private bool TryReadMessage(out TResponse message)
    {
        message = null!;
        var buffered = _buffer.AsSpan(_start, _end - _start);
        if (!GrpcFrame.TryReadPrefix(buffered, out var compressed, out var length))
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

        if (buffered.Length < PrefixLength + length)
        {
            _wanted = PrefixLength + (int)length;
            return false;
        }

        try
        {
            message = _parser.ParseFrom(buffered.Slice(PrefixLength, (int)length));
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new RpcException(new Status(StatusCode.Internal, $"the worker's answer is not a {typeof(TResponse).Name}: {ex.Message}"));
        }

        _start += PrefixLength + (int)length;
        _wanted = 0;
        if (_start == _end)
        {
            (_start, _end) = (0, 0);
        }

        return true;
    }

    /// <summary>Room after the buffered bytes for the next read, and for the whole frame they begin.</summary>
    private void MakeRoom()
    {
        var needed = Math.Max(_wanted, _end - _start + 1);
        if (_buffer.Length - _start >= needed && _end < _buffer.Length)
        {
            return;
        }

        var target = _buffer.Length >= needed ? _buffer : ArrayPool<byte>.Shared.Rent(needed);
        _buffer.AsSpan(_start, _end - _start).CopyTo(target);
        if (!ReferenceEquals(target, _buffer))
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = target;
        }

        (_start, _end) = (0, _end - _start);
    }

    /// <summary>
    /// Throws the call's status when it is not OK; <paramref name="missing"/>, when given, is the
    /// error for no status at all. True when <paramref name="headers"/> held an OK status.
    /// </summary>
    private static bool ThrowIfFailed(HttpHeaders headers, string? missing)
    {
        if (!headers.TryGetValues("grpc-status", out var values))
        {
            return missing is null ? false : throw new RpcException(new Status(StatusCode.Internal, missing));
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

        return true;
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
