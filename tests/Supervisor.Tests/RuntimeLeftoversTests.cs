using GrpcPlugins.Supervisor.Processes;

namespace GrpcPlugins.Supervisor.Tests;

/// <summary>Which files a killed .NET worker's runtime is taken to have left, and their removal, on real files.</summary>
public sealed class RuntimeLeftoversTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("gpt-leftovers-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void AWorkersOwnTmpdir_IsWhereItsRuntimeFilesAreLookedFor_AndOneRemovedMeansTmp()
    {
        var self = Environment.ProcessId;

        var own = RuntimeLeftovers.Of(self, new Dictionary<string, string?> { ["TMPDIR"] = _root });
        var removed = RuntimeLeftovers.Of(self, new Dictionary<string, string?> { ["TMPDIR"] = null });

        Assert.Equal(_root, own!.Directory);
        Assert.Equal("/tmp", removed!.Directory);
        Assert.Equal(ProcessStartTime.Read(self), own.StartTime);
    }

    [Fact]
    public void OnlyThePidsAndStartTimesFiles_AreRemoved_AndMissingOnesAreNoError()
    {
        var leftovers = new RuntimeLeftovers(_root, 4242, 123456);
        foreach (var path in leftovers.Paths.Take(2))
        {
            File.WriteAllText(path, string.Empty);
        }

        // Another process's (the same pid reused later), and an unrelated file.
        var reused = Path.Combine(_root, "dotnet-diagnostic-4242-999999-socket");
        var other = Path.Combine(_root, "keep-me");
        File.WriteAllText(reused, string.Empty);
        File.WriteAllText(other, string.Empty);

        Assert.Null(leftovers.Remove());
        Assert.Equal(["dotnet-diagnostic-4242-999999-socket", "keep-me"], Directory.EnumerateFiles(_root).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void AProcessAlreadyGone_HasNoLeftoversToLookFor()
    {
        Assert.Null(RuntimeLeftovers.Of(int.MaxValue, new Dictionary<string, string?>()));
    }
}
