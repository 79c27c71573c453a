namespace GrpcPlugins.Host.Registry;

/// <summary>The outcome of an install, upgrade or uninstall.</summary>
internal sealed record InstallResult(bool Succeeded, int Status, string Message, string? PluginId, string? Version)
{
    /// <summary>The permissions the admin has yet to accept, when that is why it was refused (409); null otherwise.</summary>
    public IReadOnlyList<string>? AwaitingConsent { get; init; }

    public static InstallResult Ok(string id, string version, string what) => new(true, 200, what, id, version);

    public static InstallResult Fail(int status, string message) => new(false, status, message, null, null);
}
