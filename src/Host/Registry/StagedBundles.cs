using GrpcPlugins.Host.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GrpcPlugins.Host.Registry;

/// <summary>
/// The state directory's staging area: uploads waiting for an admin's consent, and bundles read
/// from the shared store for a replica to follow, each under its content address. A bundle leaves
/// it once installed; one never installed leaves once <see cref="PluginHostOptions.StagedBundleLifetime"/>
/// has passed since its upload, so bundles an admin reviewed and walked away from (hundreds of MiB
/// with native libraries) do not fill the state disk.
/// </summary>
internal sealed partial class StagedBundles(IOptions<PluginHostOptions> options, TimeProvider time, ILogger<StagedBundles> logger)
{
    private const string StagedExtension = ".bundle";

    /// <summary>The staging directory.</summary>
    public string Root => Path.Combine(options.Value.StateDirectory, "staging");

    /// <summary>How long a bundle stays staged without being installed.</summary>
    public TimeSpan Lifetime => options.Value.StagedBundleLifetime;

    /// <summary>Where the bundle at <paramref name="address"/> is staged (whether or not it is).</summary>
    public string PathOf(string address) => Path.Combine(Root, address.Replace(':', '-') + StagedExtension);

    /// <summary>
    /// A fresh path for a bundle on its way in (<paramref name="purpose"/>: an upload, a read from the
    /// store), moved to <see cref="PathOf"/> once whole; a writer that died leaves it to the next sweep.
    /// </summary>
    public string IncomingPath(string purpose)
    {
        Directory.CreateDirectory(Root);
        return Path.Combine(Root, $"{Guid.NewGuid():N}.{purpose}");
    }

    /// <summary>When a staged bundle leaves unless installed first: <see cref="Lifetime"/> after it was staged.</summary>
    public DateTimeOffset ExpiryOf(string address) => new DateTimeOffset(File.GetLastWriteTimeUtc(PathOf(address)), TimeSpan.Zero) + Lifetime;

    /// <summary>Removes an installed bundle: its files are in the plugins directory now (and in the shared store).</summary>
    public void Remove(string address) => File.Delete(PathOf(address));

    /// <summary>
    /// Removes what has been here longer than <see cref="Lifetime"/>; with <paramref name="starting"/>, also
    /// every bundle still on its way in and every preview's extraction, whose writer was a run of the host
    /// that has ended. The caller makes sure no install is reading a staged bundle meanwhile.
    /// </summary>
    public void Sweep(bool starting)
    {
        if (!Directory.Exists(Root))
        {
            return;
        }

        var now = time.GetUtcNow().UtcDateTime;
        foreach (var extraction in Directory.EnumerateDirectories(Root))
        {
            var age = now - Directory.GetLastWriteTimeUtc(extraction);
            if (starting || age > Lifetime)
            {
                Remove(extraction, () => Directory.Delete(extraction, recursive: true), "a preview's unfinished extraction", age);
            }
        }

        foreach (var path in Directory.EnumerateFiles(Root))
        {
            var incoming = !path.EndsWith(StagedExtension, StringComparison.Ordinal);
            var age = now - File.GetLastWriteTimeUtc(path);
            if ((starting && incoming) || age > Lifetime)
            {
                Remove(path, () => File.Delete(path), incoming ? "an unfinished upload or store read" : "never installed", age);
            }
        }
    }

    private void Remove(string path, Action delete, string why, TimeSpan age)
    {
        try
        {
            delete();
            Log.Removed(logger, Path.GetFileName(path), why, age);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.NotRemoved(logger, ex, path);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1013, EventName = "StagedBundleRemoved", Level = LogLevel.Information, Message = "Removed staged {File} ({Why}, staged {Age} ago)")]
        public static partial void Removed(ILogger logger, string file, string why, TimeSpan age);

        [LoggerMessage(EventId = 1014, EventName = "StagedBundleNotRemoved", Level = LogLevel.Warning, Message = "Could not remove staged {Path}; it stays until a later sweep. Check the state directory's permissions")]
        public static partial void NotRemoved(ILogger logger, Exception exception, string path);
    }
}
