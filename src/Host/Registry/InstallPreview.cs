namespace GrpcPlugins.Host.Registry;

/// <summary>What a staged bundle is and asks for, before consent.</summary>
internal sealed record InstallPreview(string Address, string? Id, string? Version, string? InstalledVersion, IReadOnlyList<string> Permissions, string? Signer, IReadOnlyList<string> Errors)
{
    public string Action => InstalledVersion is null ? "install" : "upgrade";
}
