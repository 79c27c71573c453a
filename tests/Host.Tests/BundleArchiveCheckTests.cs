using System.Formats.Tar;
using System.IO.Compression;
using GrpcPlugins.Host.Bundles;

namespace GrpcPlugins.Host.Tests;

/// <summary>Archives built on disk (in a temp directory removed after each test) and extracted for real.</summary>
public sealed class BundleArchiveCheckTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gpt-archive-").FullName;

    private string Plugins => Path.Combine(_directory, "plugins");

    [Fact]
    public void AnArchiveWithinTheLimits_WithALinkInsideItsFolder_Extracts()
    {
        var bundle = Write(Entry("plugin.json", 10), Link("lib/libfoo.so", "libfoo.so.1"), Entry("lib/libfoo.so.1", 100));

        var extracted = BundleArchive.Extract(bundle, new BundleLimits(110, 3), Plugins);

        Assert.Equal(100, File.ReadAllBytes(Path.Combine(extracted, "lib", "libfoo.so")).Length);
    }

    [Theory]
    [InlineData(109, 3, "expands to more than 109 bytes (PluginHost:MaxBundleExpandedBytes)")]
    [InlineData(1000, 2, "holds more than 2 entries (PluginHost:MaxBundleEntries)")]
    public void AnArchiveOverALimit_IsRefusedNamingTheSetting_BeforeAnythingIsWritten(long bytes, int entries, string expected)
    {
        var bundle = Write(Entry("plugin.json", 10), Link("lib/libfoo.so", "libfoo.so.1"), Entry("lib/libfoo.so.1", 100));

        var error = Assert.Throws<BundleFormatException>(() => BundleArchive.Extract(bundle, new BundleLimits(bytes, entries), Plugins));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Plugins) && Directory.EnumerateFileSystemEntries(Plugins).Any(), "a refused bundle left files behind");
    }

    [Fact]
    public void AnArchiveTheDiskHasNoRoomFor_KeepingItsReserve_IsRefusedSayingWhichDisk_BeforeAnythingIsWritten()
    {
        var bundle = Write(Entry("plugin.json", 10), Entry("lib/libfoo.so.1", 100));
        var free = new DriveInfo(_directory).AvailableFreeSpace;

        var error = Assert.Throws<NotEnoughRoomException>(() => BundleArchive.Extract(bundle, new BundleLimits(1000, 10, ReserveBytes: free + (1L << 30)), Plugins));
        var fits = BundleArchive.Extract(bundle, new BundleLimits(1000, 10, ReserveBytes: 0), Path.Combine(_directory, "other"));

        Assert.StartsWith($"not enough room: the disk of {Plugins} has ", error.Message, StringComparison.Ordinal);
        Assert.Contains("the bundle's files needs 0 MiB", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Plugins) && Directory.EnumerateFileSystemEntries(Plugins).Any(), "a refused bundle left files behind");
        Assert.True(File.Exists(Path.Combine(fits, "plugin.json")));
    }

    [Fact]
    public void EntriesThatWouldLandOutsideTheFolder_OrAreNotFilesFoldersOrLinks_AreRefused()
    {
        Assert.Contains("'../evil' would land outside", Refusal(Entry("../evil", 1)), StringComparison.Ordinal);
        Assert.Contains("'/etc/evil' would land outside", Refusal(Entry("/etc/evil", 1)), StringComparison.Ordinal);
        Assert.Contains("links to '../../etc/passwd', outside", Refusal(Link("lib/passwd", "../../etc/passwd")), StringComparison.Ordinal);
        Assert.Contains("links to '/etc/passwd', outside", Refusal(Link("passwd", "/etc/passwd")), StringComparison.Ordinal);
        Assert.Contains("'pipe' is a Fifo", Refusal(new PaxTarEntry(TarEntryType.Fifo, "pipe")), StringComparison.Ordinal);
    }

    [Fact]
    public void BytesThatAreNotATarGz_AreRefusedAsNotABundle()
    {
        var text = Path.Combine(_directory, "text.bundle");
        File.WriteAllText(text, "this is not a bundle");
        var valid = File.ReadAllBytes(Write(Entry("plugin.json", 4000)));
        var truncated = Path.Combine(_directory, "truncated.bundle");
        File.WriteAllBytes(truncated, valid[..(valid.Length / 2)]);

        foreach (var bundle in new[] { text, truncated, Write() })
        {
            var error = Assert.Throws<BundleFormatException>(() => BundleArchive.Extract(bundle, BundleLimits.Default, Plugins));
            Assert.StartsWith("not a bundle: ", error.Message, StringComparison.Ordinal);
            Assert.EndsWith("Upload the .tar.gz that `GrpcPlugins.BundleTool pack` writes.", error.Message, StringComparison.Ordinal);
        }
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Refusal(TarEntry entry) =>
        Assert.Throws<BundleFormatException>(() => BundleArchive.Extract(Write(entry), BundleLimits.Default, Plugins)).Message;

    private static PaxTarEntry Entry(string name, int length) =>
        new(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(new byte[length]) };

    private static PaxTarEntry Link(string name, string target) =>
        new(TarEntryType.SymbolicLink, name) { LinkName = target };

    private string Write(params TarEntry[] entries)
    {
        var path = Path.Combine(_directory, Guid.NewGuid().ToString("N") + ".bundle");
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        using var tar = new TarWriter(gzip, TarEntryFormat.Pax);
        foreach (var entry in entries)
        {
            tar.WriteEntry(entry);
        }

        return path;
    }
}
