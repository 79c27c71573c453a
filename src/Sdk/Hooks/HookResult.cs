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

    /// <summary>Replace the body (UTF-8 text) and optionally set headers, then pass on.</summary>
    public static HookResult Modify(string body, IReadOnlyDictionary<string, string>? setHeaders = null, string? contentType = null) =>
        new ModifyResult(Encoding.UTF8.GetBytes(body), true, setHeaders ?? new Dictionary<string, string>(), contentType);

    /// <summary>Replace the body and optionally set headers, then pass on.</summary>
    public static HookResult Modify(ReadOnlyMemory<byte> body, IReadOnlyDictionary<string, string>? setHeaders = null, string? contentType = null) =>
        new ModifyResult(body, true, setHeaders ?? new Dictionary<string, string>(), contentType);

    /// <summary>Set headers only (an empty value removes one), then pass on.</summary>
    public static HookResult SetHeaders(IReadOnlyDictionary<string, string> setHeaders) =>
        new ModifyResult(ReadOnlyMemory<byte>.Empty, false, setHeaders, null);

    /// <summary>Stop the chain and answer the caller with this response; later plugins are not called.</summary>
    public static HookResult ShortCircuit(int statusCode, string body, string contentType = "text/plain; charset=utf-8") =>
        new ShortCircuitResult(statusCode, Encoding.UTF8.GetBytes(body), contentType);

    internal sealed record ContinueResult : HookResult;

    internal sealed record ModifyResult(ReadOnlyMemory<byte> Body, bool ReplaceBody, IReadOnlyDictionary<string, string> HeadersToSet, string? ContentType) : HookResult;

    internal sealed record ShortCircuitResult(int StatusCode, ReadOnlyMemory<byte> Body, string ContentType) : HookResult;
}
