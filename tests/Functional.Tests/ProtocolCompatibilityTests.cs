using CliWrap;
using CliWrap.Buffered;
using GrpcPlugins.Functional.Tests.Infrastructure;

namespace GrpcPlugins.Functional.Tests;

/// <summary>
/// protos/ against plugin.v1 as released (tests/Protocol/released.binpb), checked by buf's
/// breaking-change rules: a plugin generated from the released protos, in any language,
/// keeps building and talking to this host.
/// </summary>
public sealed class ProtocolCompatibilityTests : IDisposable
{
    private readonly string _scratch = Directory.CreateTempSubdirectory("gpt-protos-").FullName;

    [Fact]
    public async Task TheProtos_BreakNothingOfTheReleasedPluginV1()
    {
        var result = await BreakingAsync(Path.Combine(TestPaths.RepoRoot, "protos"));

        Assert.True(result.ExitCode == 0,
            $"protos/ breaks the released plugin.v1:\n{result.StandardOutput}{result.StandardError}\n" +
            "plugin.v1 only grows (docs/protocol.md, Versioning): add a field with a new number, or a new message or RPC, and leave the released ones as they are. A breaking change is plugin.v2.");
    }

    [Fact]
    public async Task AFieldRenumbered_IsCaughtByTheCheck_NamingItAndItsMessage()
    {
        var protos = Path.Combine(_scratch, "protos");
        CopyDirectory(Path.Combine(TestPaths.RepoRoot, "protos"), protos);
        var plugin = Path.Combine(protos, "plugin", "v1", "plugin.proto");
        const string routes = "repeated RouteRegistration routes = 4;";
        var source = await File.ReadAllTextAsync(plugin);
        Assert.Contains(routes, source, StringComparison.Ordinal);
        await File.WriteAllTextAsync(plugin, source.Replace(routes, "repeated RouteRegistration routes = 40;", StringComparison.Ordinal));

        var result = await BreakingAsync(protos);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("""field "4" with name "routes" on message "DescribeResponse" was deleted""", result.StandardOutput, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    private async Task<BufferedCommandResult> BreakingAsync(string protos)
    {
        var buf = Path.Combine(TestPaths.RepoRoot, "tests", "Protocol", "node_modules", ".bin", "buf");
        Assert.True(File.Exists(buf), $"{buf} is missing: run `make test` (or `make deps build`), which installs it from npm");
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        return await Cli.Wrap(buf)
            .WithArguments(["breaking", protos, "--against", Path.Combine(TestPaths.RepoRoot, "tests", "Protocol", "released.binpb")])
            .WithEnvironmentVariables(e => e.Set("BUF_CACHE_DIR", Path.Combine(_scratch, "cache")))
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync(timeout.Token);
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
