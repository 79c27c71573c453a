using System.Text;

namespace GrpcPlugins.Sdk;

/// <summary>One call of a hook point, as the plugin sees it.</summary>
public sealed class HookCall
{
    private string? _bodyText;

    internal HookCall(string point, ReadOnlyMemory<byte> body, string contentType, IReadOnlyDictionary<string, string> headers, HookCallContext context, IPluginHost host)
    {
        Point = point;
        Body = body;
        ContentType = contentType;
        Headers = headers;
        Context = context;
        Host = host;
    }

    /// <summary>The hook point's name, for example "request".</summary>
    public string Point { get; }

    /// <summary>The body as threaded so far by earlier plugins. Empty when <see cref="HookCallContext.IsStreaming"/>.</summary>
    public ReadOnlyMemory<byte> Body { get; }

    /// <summary>The body decoded as UTF-8, once, on first use: a handler may read it more than once.</summary>
    public string BodyText => _bodyText ??= Encoding.UTF8.GetString(Body.Span);

    /// <summary>The body's media type, for example "application/json".</summary>
    public string ContentType { get; }

    /// <summary>Headers as threaded so far, with lower-case names.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; }

    /// <summary>Where the call comes from.</summary>
    public HookCallContext Context { get; }

    /// <summary>The host's services for this plugin (settings).</summary>
    public IPluginHost Host { get; }
}
