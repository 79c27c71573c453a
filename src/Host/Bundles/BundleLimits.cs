namespace GrpcPlugins.Host.Bundles;

/// <summary>
/// How far a bundle may expand when extracted. A few megabytes of gzip can
/// expand to fill a disk, and the signature is checked only once the files
/// are out, so the archive is measured before a byte of it is written.
/// <paramref name="ReserveBytes"/> is what extraction leaves free on the disk it writes to.
/// </summary>
internal sealed record BundleLimits(long MaxExpandedBytes, int MaxEntries, long ReserveBytes = 0)
{
    /// <summary>2 GiB: four times the largest upload by default, room for native libraries that compress well.</summary>
    public const long DefaultMaxExpandedBytes = 2L * 1024 * 1024 * 1024;

    /// <summary>100,000 files, folders and links: far above any plugin seen, far below what fills a file system's inodes.</summary>
    public const int DefaultMaxEntries = 100_000;

    /// <summary>The defaults, for tools that have no host configuration.</summary>
    public static BundleLimits Default { get; } = new(DefaultMaxExpandedBytes, DefaultMaxEntries);
}
