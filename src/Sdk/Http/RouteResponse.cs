using System.Text;

namespace GrpcPlugins.Sdk;

/// <summary>
/// The response to a route request. Status and headers are sent with the
/// first body write (or at the end); every write reaches the client as it is
/// made, so server-sent events flow event by event.
/// </summary>
public sealed class RouteResponse
{
    private readonly Func<int, IReadOnlyList<KeyValuePair<string, string>>, bool, CancellationToken, Task> _sendHead;
    private readonly Func<ReadOnlyMemory<byte>, CancellationToken, Task> _sendChunk;
    private readonly List<KeyValuePair<string, string>> _headers = [];
    private int _statusCode = 200;

    internal RouteResponse(Func<int, IReadOnlyList<KeyValuePair<string, string>>, bool, CancellationToken, Task> sendHead, Func<ReadOnlyMemory<byte>, CancellationToken, Task> sendChunk)
    {
        _sendHead = sendHead;
        _sendChunk = sendChunk;
    }

    /// <summary>True once status and headers were sent; they cannot change after.</summary>
    public bool HasStarted { get; private set; }

    /// <summary>The status code: a final one, 200 to 599 (anything else throws). Defaults to 200.</summary>
    public int StatusCode
    {
        get => _statusCode;
        set
        {
            ThrowIfStarted();
            Routing.HttpFieldSyntax.ThrowIfNotAFinalStatus(value, nameof(value));
            _statusCode = value;
        }
    }

    /// <summary>Sets the Content-Type header (printable ASCII; anything else throws).</summary>
    public string? ContentType
    {
        get => Single("content-type");
        set
        {
            ThrowIfStarted();
            if (value is not null)
            {
                Routing.HttpFieldSyntax.ThrowIfNotAField("content-type", value, nameof(value));
            }

            SetSingle("content-type", value);
        }
    }

    /// <summary>
    /// The body's length in bytes, when known before it is written (a file's size, say): the
    /// client gets it as Content-Length, so it can show progress and knows the answer came
    /// whole. The host holds the body to it: fewer or more bytes cut the response and count as
    /// the plugin's error. Null (the default): a short answer written at once still gets its
    /// length; anything else is streamed without one. Negative values throw.
    /// </summary>
    public long? ContentLength
    {
        get => long.TryParse(Single("content-length"), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var length) ? length : null;
        set
        {
            ThrowIfStarted();
            ArgumentOutOfRangeException.ThrowIfNegative(value ?? 0, nameof(value));
            SetSingle("content-length", value?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    /// <summary>
    /// Adds a response header (the host drops those its policy does not allow). A name
    /// that is not an HTTP token or a value with control or non-ASCII characters (a line
    /// break from user input, say) throws here rather than becoming the host's 502.
    /// </summary>
    public void AddHeader(string name, string value)
    {
        ThrowIfStarted();
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        Routing.HttpFieldSyntax.ThrowIfNotAField(name, value, nameof(value));
        _headers.Add(new(name.ToLowerInvariant(), value));
    }

    /// <summary>Sends status and headers now, without a body yet.</summary>
    public Task StartAsync(CancellationToken cancellationToken = default) => StartCoreAsync(flush: true, cancellationToken);

    private async Task StartCoreAsync(bool flush, CancellationToken cancellationToken)
    {
        if (!HasStarted)
        {
            HasStarted = true;
            await _sendHead(_statusCode, _headers, flush, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Writes a piece of the body; it is sent to the client at once. A piece of any size
    /// may be written (it travels as 64 KiB frames); the returned task completes when the
    /// host can take more, so a client that reads slowly holds a large answer back.
    /// </summary>
    public async Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        if (data.IsEmpty)
        {
            await StartAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        await StartCoreAsync(flush: false, cancellationToken).ConfigureAwait(false);
        await _sendChunk(data, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes UTF-8 text; sets a text/plain Content-Type if none was set.</summary>
    public Task WriteAsync(string text, CancellationToken cancellationToken = default)
    {
        if (!HasStarted && ContentType is null)
        {
            ContentType = "text/plain; charset=utf-8";
        }

        return WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken);
    }

    /// <summary>Writes a JSON document given as text, with Content-Type application/json.</summary>
    public Task WriteJsonAsync(string json, CancellationToken cancellationToken = default)
    {
        if (!HasStarted)
        {
            ContentType = "application/json; charset=utf-8";
        }

        return WriteAsync(Encoding.UTF8.GetBytes(json), cancellationToken);
    }

    private string? Single(string name) => _headers.FirstOrDefault(h => h.Key == name).Value;

    /// <summary>Replaces a header that has one value (null removes it).</summary>
    private void SetSingle(string name, string? value)
    {
        _headers.RemoveAll(h => h.Key == name);
        if (value is not null)
        {
            _headers.Add(new(name, value));
        }
    }

    private void ThrowIfStarted()
    {
        if (HasStarted)
        {
            throw new InvalidOperationException("The response has started: status and headers were already sent.");
        }
    }
}
