using System.Text;

namespace GrpcPlugins.Sdk;

/// <summary>A plugin's decision for one hook call: continue, modify, or short-circuit.</summary>
public abstract record HookResult
{
    private protected HookResult()
    {
    }

    /// <summary>Pass the call on unchanged.</summary>
    public static HookResult Continue { get; } = new ContinueResult();

    // Header names, values and statuses are checked as the host checks them (it would treat a bad
    // one as the plugin's error): a C# author learns at the line that made it, with a stack trace.

    /// <summary>Replace the body (UTF-8 text) and optionally set headers, then pass on.</summary>
    /// <exception cref="ArgumentException">A header or the content type is not valid HTTP.</exception>
    public static HookResult Modify(string body, IReadOnlyDictionary<string, string>? setHeaders = null, string? contentType = null) =>
        new ModifyResult(Encoding.UTF8.GetBytes(body), true, Checked(setHeaders ?? new Dictionary<string, string>()), Checked(contentType));

    /// <summary>Replace the body and optionally set headers, then pass on.</summary>
    /// <exception cref="ArgumentException">A header or the content type is not valid HTTP.</exception>
    public static HookResult Modify(ReadOnlyMemory<byte> body, IReadOnlyDictionary<string, string>? setHeaders = null, string? contentType = null) =>
        new ModifyResult(body, true, Checked(setHeaders ?? new Dictionary<string, string>()), Checked(contentType));

    /// <summary>Set headers only (an empty value removes one), then pass on.</summary>
    /// <exception cref="ArgumentException">A header is not valid HTTP.</exception>
    public static HookResult SetHeaders(IReadOnlyDictionary<string, string> setHeaders) =>
        new ModifyResult(ReadOnlyMemory<byte>.Empty, false, Checked(setHeaders), null);

    /// <summary>Stop the chain and answer the caller with this response; later plugins are not called.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The status is not a final one (200 to 599).</exception>
    /// <exception cref="ArgumentException">The content type is not valid HTTP.</exception>
    public static HookResult ShortCircuit(int statusCode, string body, string contentType = "text/plain; charset=utf-8")
    {
        Routing.HttpFieldSyntax.ThrowIfNotAFinalStatus(statusCode, nameof(statusCode));
        return new ShortCircuitResult(statusCode, Encoding.UTF8.GetBytes(body), Checked(contentType) ?? string.Empty);
    }

    private static IReadOnlyDictionary<string, string> Checked(IReadOnlyDictionary<string, string> headers)
    {
        foreach (var (name, value) in headers)
        {
            Routing.HttpFieldSyntax.ThrowIfNotAField(name, value, "setHeaders");
        }

        return headers;
    }

    private static string? Checked(string? contentType)
    {
        if (contentType is { Length: > 0 })
        {
            Routing.HttpFieldSyntax.ThrowIfNotAField("content-type", contentType, nameof(contentType));
        }

        return contentType;
    }

    internal sealed record ContinueResult : HookResult;

    internal sealed record ModifyResult(ReadOnlyMemory<byte> Body, bool ReplaceBody, IReadOnlyDictionary<string, string> HeadersToSet, string? ContentType) : HookResult;

    internal sealed record ShortCircuitResult(int StatusCode, ReadOnlyMemory<byte> Body, string ContentType) : HookResult;
}
