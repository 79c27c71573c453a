using GrpcPlugins.Host.Hosting;
using Microsoft.Extensions.Options;

namespace GrpcPlugins.Host.Registry;

/// <summary>
/// The bundles of a plugin's current and previous install through the admin API, so an admin
/// can roll an upgrade back without finding the old bundle and uploading it again: the one it
/// runs and the one the last upgrade replaced, no more (a bundle with native libraries may be
/// hundreds of MiB). Kept under <c>{StateDirectory}/bundles/{id}</c>, each named for its
/// address and version.
/// </summary>
internal sealed class KeptBundles(IOptions<PluginHostOptions> options)
{
    private const string Extension = ".bundle";

    /// <summary>A kept bundle: its content address, the version it installs, and its file.</summary>
    public sealed record Kept(string Address, string Version, string Path);

    private string RootOf(string id) => Path.Combine(options.Value.StateDirectory, "bundles", id);

    /// <summary>
    /// Keeps the bundle just installed from <paramref name="staged"/> (moved, so it leaves the
    /// staging area), and the one <paramref name="replacedFolder"/> came from, if kept; drops the rest.
    /// </summary>
    public void Installed(string id, string version, string address, string staged, string? replacedFolder)
    {
        var root = Directory.CreateDirectory(RootOf(id)).FullName;
        File.Move(staged, Path.Combine(root, $"{address[7..]}_{version}{Extension}"), overwrite: true);
        foreach (var kept in All(id).Where(k => k.Address != address && (replacedFolder is null || !PluginInstaller.IsFrom(replacedFolder, k.Address))))
        {
            File.Delete(kept.Path);
        }
    }

    /// <summary>The kept bundle the plugin in <paramref name="folder"/> does not run from: what a rollback installs; null when none.</summary>
    public Kept? PreviousOf(string id, string folder) => All(id).FirstOrDefault(k => !PluginInstaller.IsFrom(folder, k.Address));

    /// <summary>Drops every kept bundle of an uninstalled plugin.</summary>
    public void Forget(string id)
    {
        if (Directory.Exists(RootOf(id)))
        {
            Directory.Delete(RootOf(id), recursive: true);
        }
    }

    private List<Kept> All(string id)
    {
        if (!Directory.Exists(RootOf(id)))
        {
            return [];
        }

        return Directory.EnumerateFiles(RootOf(id), "*" + Extension)
            .Select(path => (Path: path, Name: Path.GetFileNameWithoutExtension(path)))
            .Where(f => f.Name.Length > 65 && f.Name[64] == '_')
            .Select(f => new Kept("sha256:" + f.Name[..64], f.Name[65..], f.Path))
            .ToList();
    }
}
