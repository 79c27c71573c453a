using System.Buffers;
using System.Globalization;
using Google.Protobuf;
using Grpc.Core;
using GrpcPlugins.Host.Calls;
using GrpcPlugins.Host.Http;
using GrpcPlugins.Protocol.V1;
using GrpcPlugins.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace GrpcPlugins.Host.Routes;

/// <summary>
/// The bytes of one route call between the client's HTTP exchange and the
/// plugin's frames: the request body up (whole or streamed), the answer down.
/// </summary>
internal static class RouteExchange
{
    /// <summary>Requests up to this declared length travel whole, through HandleHttpBuffered.</summary>
    public const long BufferedBodyLimit = ChunkSize;

    private const int ChunkSize = 64 * 1024;

    /// <summary>
    /// Past this much received and not yet flushed, the host flushes even though more
    /// is waiting: a large answer is streamed rather than held for a Content-Length,
    /// and a plugin faster than its client waits for the client (the flush's back-pressure).
    /// </summary>
    private const int MaxUnflushedBytes = 64 * 1024;

    /// <summary>
    /// Copies the plugin's answer to the client. Frames that arrived together
    /// leave in one write; the writer is flushed whenever the next frame is not
    /// already there, so a stream (server-sent events) still flows event by event.
    /// A small answer that arrived whole before anything was flushed is sent with its
    /// Content-Length, so the client needs no chunked framing to see its end. A
    /// Content-Length the plugin declared is sent, and the body is held to it.
    /// Returns whether a response head was received.
    /// </summary>
    public static async Task<bool> RelayResponseAsync(HttpContext context, IAsyncStreamReader<HttpResponseFrame> answer, CallDeadline deadline, TimeSpan idleTimeout, Action onStarted, CancellationToken cancellationToken)
    {
        var started = false;
        // 204 and 304 answers have no body by definition; a plugin that sends one anyway is not obeyed.
        var bodiless = false;
        var writer = context.Response.BodyWriter;
        List<ByteString>? held = [];
        long unflushedBytes = 0;
        // The plugin's own Content-Length, if it gave one, and what it has sent against it.
        long? declared = null;
        long sent = 0;
        var finalByte = ReadOnlyMemory<byte>.Empty;
        var next = answer.MoveNext(cancellationToken);
        while (await next.ConfigureAwait(false))
        {
            var frame = answer.Current;
            if (frame.FrameCase == HttpResponseFrame.FrameOneofCase.Head && !started)
            {
                // Checked before anything is set: a head Kestrel would refuse half-way must become a 502, not a reset.
                if (Problem(frame.Head) is { } problem)
                {
                    throw new RpcException(new Status(StatusCode.Internal, "the plugin's answer is not valid HTTP: " + problem));
                }

                started = true;
                onStarted();
                bodiless = frame.Head.StatusCode is 204 or 304;
                declared = bodiless ? null : DeclaredLength(frame.Head);
                WriteHead(context, frame.Head, declared);
            }
            else if (frame.FrameCase == HttpResponseFrame.FrameOneofCase.BodyChunk && started && !bodiless)
            {
                // Checked before the write, so the client gets a cut response rather than extra bytes.
                var body = frame.BodyChunk.Memory;
                sent += body.Length;
                if (sent > declared)
                {
                    throw new RpcException(new Status(StatusCode.Internal, $"the plugin declared a content-length of {declared} bytes and sent more"));
                }

                if (sent == declared && !body.IsEmpty)
                {
                    // The chunk that completes the declared length keeps its last byte until the call
                    // ends: a plugin that goes on sending leaves the client a cut answer, never a whole wrong one.
                    finalByte = body[^1..];
                    body = body[..^1];
                }

                unflushedBytes += body.Length;
                if (held is not null)
                {
                    held.Add(UnsafeByteOperations.UnsafeWrap(body));
                }
                else
                {
                    writer.Write(body.Span);
                }
            }

            // Progress: an open stream (server-sent events) lives on while it keeps talking.
            deadline.Extend(idleTimeout);
            next = answer.MoveNext(cancellationToken);
            if (started && (!next.IsCompleted || unflushedBytes > MaxUnflushedBytes))
            {
                // Nothing more is waiting, or enough is: what came so far goes to the client now.
                WriteHeld(writer, held);
                held = null;
                unflushedBytes = 0;
                await writer.FlushAsync(deadline.Token).ConfigureAwait(false);
            }
        }

        if (sent < declared)
        {
            throw new RpcException(new Status(StatusCode.Internal, $"the plugin declared a content-length of {declared} bytes and sent {sent}"));
        }

        if (started && held is not null)
        {
            // A HEAD answer is its GET's, so its length says what GET would send; Kestrel drops the body.
            if (unflushedBytes > 0 && declared is null)
            {
                context.Response.ContentLength = unflushedBytes;
            }

            WriteHeld(writer, held);
        }

        if (!finalByte.IsEmpty)
        {
            writer.Write(finalByte.Span);
            // Measured: under a Content-Length, bytes written after the last flush reached the
            // client only when Kestrel's keep-alive timeout closed the connection (130 s later).
            await writer.FlushAsync(deadline.Token).ConfigureAwait(false);
        }

        return started;
    }

    private static void WriteHeld(System.IO.Pipelines.PipeWriter writer, List<ByteString>? held)
    {
        foreach (var chunk in held ?? [])
        {
            writer.Write(chunk.Span);
        }
    }

    /// <summary>Reads a body whose declared length is within <see cref="BufferedBodyLimit"/>.</summary>
    public static async Task<ByteString> ReadSmallBodyAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var length = (int)context.Request.ContentLength.GetValueOrDefault();
        if (length == 0)
        {
            return ByteString.Empty;
        }

        var body = new byte[length];
        try
        {
            await context.Request.Body.ReadExactlyAsync(body, cancellationToken).ConfigureAwait(false);
        }
        catch (EndOfStreamException ex)
        {
            throw new BadHttpRequestException($"The request body ended before its declared Content-Length of {length} bytes.", ex);
        }

        return UnsafeByteOperations.UnsafeWrap(body);
    }

    /// <summary>
    /// Takes what of a body without a declared length has already arrived, without waiting,
    /// so a client that streams its body and waits for an answer is never held up. A body
    /// that is all here and within <paramref name="limit"/> comes back whole; otherwise the
    /// stream to read it from, starting with what was taken.
    /// </summary>
    public static (ByteString? Whole, Stream Remaining) TakeArrivedBody(HttpContext context, long limit)
    {
        var reader = context.Request.BodyReader;
        ArrayBufferWriter<byte>? taken = null;
        while (reader.TryRead(out var result))
        {
            var buffer = result.Buffer;
            if ((taken?.WrittenCount ?? 0) + buffer.Length > limit || (buffer.IsEmpty && !result.IsCompleted))
            {
                reader.AdvanceTo(buffer.Start);
                break;
            }

            if (taken is null && result.IsCompleted)
            {
                // All of it in one piece: one copy, no writer.
                var whole = buffer.IsEmpty ? ByteString.Empty : UnsafeByteOperations.UnsafeWrap(buffer.ToArray());
                reader.AdvanceTo(buffer.End);
                return (whole, Stream.Null);
            }

            taken ??= new ArrayBufferWriter<byte>((int)Math.Max(buffer.Length, 256));
            foreach (var segment in buffer)
            {
                taken.Write(segment.Span);
            }

            // Consumed, so the next try sees only what comes after (a chunked body's end, say).
            reader.AdvanceTo(buffer.End);
            if (result.IsCompleted)
            {
                return (UnsafeByteOperations.UnsafeWrap(taken.WrittenMemory), Stream.Null);
            }
        }

        var rest = reader.AsStream(leaveOpen: true);
        return (null, taken is null || taken.WrittenCount == 0 ? rest : new PrefixedRequestBody(taken.WrittenMemory, rest));
    }

    /// <summary>
    /// Streams the client's body to the plugin. A client that fails or sends too
    /// much cancels the call; a write the plugin no longer takes (it answered
    /// early, or died) does not: the response side reports what happened.
    /// </summary>
    public static async Task<Exception?> PumpRequestAsync(Stream body, IClientStreamWriter<HttpRequestFrame> requests, long maxBody, CancellationTokenSource call, Action onTooLarge)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            long total = 0;
            while (true)
            {
                int read;
                try
                {
                    read = await body.ReadAsync(buffer.AsMemory(0, ChunkSize), call.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is OperationCanceledException or IOException or BadHttpRequestException)
                {
                    await call.CancelAsync().ConfigureAwait(false);
                    return ex;
                }

                total += read;
                if (total > maxBody)
                {
                    onTooLarge();
                    await call.CancelAsync().ConfigureAwait(false);
                    return null;
                }

                if (read == 0)
                {
                    await requests.WriteAsync(new HttpRequestFrame { End = new HttpEnd() }, call.Token).ConfigureAwait(false);
                    await requests.CompleteAsync().ConfigureAwait(false);
                    return null;
                }

                await requests.WriteAsync(new HttpRequestFrame { BodyChunk = ByteString.CopyFrom(buffer, 0, read) }, call.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is RpcException or OperationCanceledException or IOException or InvalidOperationException)
        {
            return ex;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public static async Task<Exception?> EndWithoutBodyAsync(IClientStreamWriter<HttpRequestFrame> requests, CancellationToken cancellationToken)
    {
        try
        {
            await requests.WriteAsync(new HttpRequestFrame { End = new HttpEnd() }, cancellationToken).ConfigureAwait(false);
            await requests.CompleteAsync().ConfigureAwait(false);
            return null;
        }
        catch (Exception ex) when (ex is RpcException or OperationCanceledException or IOException or InvalidOperationException)
        {
            return ex;
        }
    }

    // Loops rather than LINQ: every route's answer passes here (~400 B a route; benchmarks.md,
    // "Where a route's 13.4 KB go").
    private static string? Problem(HttpResponseHead head)
    {
        if (HttpFieldSyntax.StatusProblem(head.StatusCode) is { } status)
        {
            return status;
        }

        foreach (var header in head.Headers)
        {
            if (HeaderPolicy.AllowsResponse(header.Name) && HttpFieldSyntax.HeaderProblem(header.Name, header.Value) is { } problem)
            {
                return problem;
            }
        }

        return LengthProblem(head);
    }

    /// <summary>A content-length must be one length in bytes; several equal ones are one (RFC 9110, 8.6).</summary>
    private static string? LengthProblem(HttpResponseHead head)
    {
        string? length = null;
        List<string>? others = null;
        foreach (var header in head.Headers)
        {
            if (!IsContentLength(header) || header.Value == length || others?.Contains(header.Value) == true)
            {
                continue;
            }

            if (length is null)
            {
                length = header.Value;
            }
            else
            {
                (others ??= []).Add(header.Value);
            }
        }

        return (length, others) switch
        {
            (null, _) => null,
            (_, { Count: > 0 }) => $"content-length is given {others.Count + 1} different values",
            _ when long.TryParse(length, NumberStyles.None, CultureInfo.InvariantCulture, out _) => null,
            _ => $"content-length '{length}' is not a length in bytes",
        };
    }

    private static long? DeclaredLength(HttpResponseHead head)
    {
        foreach (var header in head.Headers)
        {
            if (IsContentLength(header))
            {
                return long.Parse(header.Value, NumberStyles.None, CultureInfo.InvariantCulture);
            }
        }

        return null;
    }

    private static bool IsContentLength(HttpHeader header) => string.Equals(header.Name, "content-length", StringComparison.OrdinalIgnoreCase);

    private static void WriteHead(HttpContext context, HttpResponseHead head, long? declaredLength)
    {
        context.Response.StatusCode = head.StatusCode;
        // Framing is the host's to write; a length the plugin declared is kept to (checked as the body comes).
        context.Response.ContentLength = declaredLength;
        foreach (var header in head.Headers)
        {
            if (HeaderPolicy.AllowsResponse(header.Name))
            {
                context.Response.Headers.Append(header.Name, header.Value);
            }
        }

        // Each chunk is flushed as it comes; a response buffer would hold events back.
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
    }
}
