using GrpcPlugins.Host.Calls;

namespace GrpcPlugins.Host.Hooks;

/// <summary>The result of running a hook point through its plugins.</summary>
public abstract record HookOutcome
{
    private protected HookOutcome(IReadOnlyList<CallFailure> skipped) => Skipped = skipped;

    /// <summary>Fail-open plugins that failed and were skipped.</summary>
    public IReadOnlyList<CallFailure> Skipped { get; }

    /// <summary>Every plugin continued: the body and headers as threaded through them.</summary>
    public sealed record Continued(ReadOnlyMemory<byte> Body, string ContentType, IReadOnlyDictionary<string, string> Headers, IReadOnlyList<CallFailure> SkippedPlugins) : HookOutcome(SkippedPlugins);

    /// <summary>A plugin answered the caller directly; later plugins were not called.</summary>
    public sealed record ShortCircuited(string PluginId, int StatusCode, ReadOnlyMemory<byte> Body, string ContentType, IReadOnlyDictionary<string, string> Headers, IReadOnlyList<CallFailure> SkippedPlugins) : HookOutcome(SkippedPlugins);

    /// <summary>A fail-closed point failed: answer with <see cref="CallFailure.StatusCode"/>.</summary>
    public sealed record Failed(CallFailure Failure, IReadOnlyList<CallFailure> SkippedPlugins) : HookOutcome(SkippedPlugins);
}
