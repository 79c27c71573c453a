namespace GrpcPlugins.Functional.Tests.Infrastructure;

/// <summary>
/// The template package <c>make pack</c> built, installed once into a template store of the tests'
/// own (not the user's), with one package folder for every project it makes and each project
/// published once: the tests of one class share them, and the directory goes when they end.
/// </summary>
public sealed class TemplateWorkspace : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<string, (string Project, string Output)> _published = new(StringComparer.Ordinal);
    private bool _installed;

    /// <summary>Where the projects, the template store and the package folder are.</summary>
    public string Root { get; } = Directory.CreateTempSubdirectory("gpt-tpl-").FullName;

    private string Hive => Path.Combine(Root, "hive");

    /// <summary>Makes a project with <c>dotnet new grpc-plugin -n <paramref name="name"/></c> and <paramref name="options"/>.</summary>
    public async Task<string> NewAsync(string name, params string[] options)
    {
        await _gate.WaitAsync();
        try
        {
            if (!_installed)
            {
                var (installed, output) = await DotnetCli.RunAsync(["new", "install", TestPaths.Package("GrpcPlugins.Templates"), "--debug:custom-hive", Hive], Root);
                Assert.True(installed == 0, output);
                _installed = true;
            }
        }
        finally
        {
            _gate.Release();
        }

        var project = Path.Combine(Root, string.Join('-', [name, .. options.Select(o => o.TrimStart('-'))]));
        var (created, log) = await DotnetCli.RunAsync(["new", "grpc-plugin", "-n", name, "-o", project, "--debug:custom-hive", Hive, .. options], Root);
        Assert.True(created == 0, log);
        return project;
    }

    /// <summary>The project <paramref name="name"/> with <c>--hosting <paramref name="hosting"/></c>, published against the packed packages (once).</summary>
    public async Task<(string Project, string Output)> PublishedAsync(string name, string hosting)
    {
        var key = $"{name}/{hosting}";
        if (_published.TryGetValue(key, out var done))
        {
            return done;
        }

        var project = await NewAsync(name, "--hosting", hosting);
        var output = Path.Combine(project, "out");
        var (code, log) = await DotnetCli.RunAsync(
            ["publish", "-c", "Release", "-o", output, "--nologo", "-v", "q", $"-p:RestoreAdditionalProjectSources={TestPaths.Packages}", $"-p:RestorePackagesPath={Path.Combine(Root, "packages")}"],
            project);
        Assert.True(code == 0, log);
        return _published[key] = (project, output);
    }

    public void Dispose()
    {
        _gate.Dispose();
        Directory.Delete(Root, recursive: true);
    }
}
