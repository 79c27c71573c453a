using GrpcPlugins.Host.Registry;

namespace GrpcPlugins.Host.Tests;

public sealed class DependencyResolverTests
{
    [Fact]
    public void Dependencies_StartBeforeTheirDependents()
    {
        var (order, refused) = DependencyResolver.Resolve([Manifest("app", "1.0.0", ("db", "1.0.0")), Manifest("db", "1.2.0", ("base", "[1.0.0, 2.0.0)")), Manifest("base", "1.5.0")]);

        Assert.Empty(refused);
        Assert.Equal(["base", "db", "app"], order.Select(m => m.Id));
    }

    [Fact]
    public void MissingDependency_RefusesThePlugin_AndItsDependents()
    {
        var (order, refused) = DependencyResolver.Resolve([Manifest("a", "1.0.0", ("ghost", "1.0.0")), Manifest("b", "1.0.0", ("a", "1.0.0")), Manifest("c", "1.0.0")]);

        Assert.Equal(["c"], order.Select(m => m.Id));
        Assert.Contains("'ghost'", refused["a"], StringComparison.Ordinal);
        Assert.Contains("not installed", refused["a"], StringComparison.Ordinal);
        Assert.StartsWith("depends on 'a', which was refused", refused["b"], StringComparison.Ordinal);
    }

    [Fact]
    public void VersionOutsideTheRange_IsRefusedWithBothVersions()
    {
        var (_, refused) = DependencyResolver.Resolve([Manifest("a", "1.0.0", ("b", "[2.0.0, 3.0.0)")), Manifest("b", "1.4.0")]);

        Assert.Contains("but 1.4.0 is installed", refused["a"], StringComparison.Ordinal);
        Assert.Contains("2.0.0", refused["a"], StringComparison.Ordinal);
    }

    [Fact]
    public void Cycle_RefusesEveryPluginInIt()
    {
        var (order, refused) = DependencyResolver.Resolve([Manifest("a", "1.0.0", ("b", "1.0.0")), Manifest("b", "1.0.0", ("a", "1.0.0")), Manifest("c", "1.0.0")]);

        Assert.Equal(["c"], order.Select(m => m.Id));
        Assert.StartsWith("dependency cycle: a → b → a", refused["a"], StringComparison.Ordinal);
        Assert.Contains("dependency cycle", refused["b"], StringComparison.Ordinal);
    }

    [Fact]
    public void RemovingADependency_NamesEveryPluginItWouldBreak_Transitively()
    {
        PluginManifest[] installed = [Manifest("base", "1.0.0"), Manifest("db", "1.0.0", ("base", "1.0.0")), Manifest("app", "1.0.0", ("db", "1.0.0")), Manifest("other", "1.0.0")];

        var broken = DependencyResolver.RefusalsCausedBy(installed, [.. installed.Where(m => m.Id != "base")]);

        Assert.Equal(["app", "db"], broken.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("'base'", broken["db"], StringComparison.Ordinal);
    }

    [Fact]
    public void UpgradingOutOfADependentsRange_BreaksIt_WithinTheRange_BreaksNothing()
    {
        PluginManifest[] installed = [Manifest("base", "1.0.0"), Manifest("app", "1.0.0", ("base", "[1.0.0, 2.0.0)"))];

        var outOfRange = DependencyResolver.RefusalsCausedBy(installed, [installed[1], Manifest("base", "2.0.0")]);
        var inRange = DependencyResolver.RefusalsCausedBy(installed, [installed[1], Manifest("base", "1.9.0")]);

        Assert.Contains("but 2.0.0 is installed", outOfRange["app"], StringComparison.Ordinal);
        Assert.Single(outOfRange);
        Assert.Empty(inRange);
    }

    [Fact]
    public void AnUpgradeThatClosesACycle_IsNamed_ButRefusalsThatAlreadyHoldAreNot()
    {
        PluginManifest[] installed = [Manifest("a", "1.0.0", ("b", "1.0.0")), Manifest("b", "1.0.0"), Manifest("lost", "1.0.0", ("ghost", "1.0.0"))];

        var broken = DependencyResolver.RefusalsCausedBy(installed, [installed[0], installed[2], Manifest("b", "1.1.0", ("a", "1.0.0"))]);

        Assert.Equal(["a", "b"], broken.Keys.Order(StringComparer.Ordinal));
        Assert.StartsWith("dependency cycle", broken["b"], StringComparison.Ordinal);
    }

    private static PluginManifest Manifest(string id, string version, params (string Id, string Range)[] dependencies)
    {
        var deps = string.Join(",", dependencies.Select(d => $$"""{"id":"{{d.Id}}","version":"{{d.Range}}"}"""));
        return ManifestReader.Parse($$"""{"id":"{{id}}","version":"{{version}}","command":"x","dependencies":[{{deps}}]}""", "/p/" + id, out var errors)
            ?? throw new InvalidOperationException(string.Join(" ", errors));
    }
}
