using System.Reflection;

namespace GrpcPlugins.Functional.Tests.Infrastructure;

/// <summary>Where the built worker, example and test plugin are.</summary>
internal static class TestPaths
{
    private static readonly Assembly s_self = typeof(TestPaths).Assembly;

    public static string RepoRoot { get; } = Metadata("RepoRoot");

    public static string Configuration { get; } = Metadata("Configuration");

    public static string PluginWorker => Output("src/PluginWorker", "GrpcPlugins.PluginWorker.dll");

    public static string HelloAssembly => Output("examples/hello", "Hello.dll");

    public static string PythonPlugin => Path.Combine(RepoRoot, "examples/python-plugin/plugin.py");

    public static string NodePlugin => Path.Combine(RepoRoot, "examples/node-plugin/plugin.js");

    /// <summary>The Go example's executable, which <c>make build</c> compiles beside its plugin.json.</summary>
    public static string GoPlugin
    {
        get
        {
            var path = Path.Combine(RepoRoot, "examples/go-plugin/plugin");
            return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is not built; run 'make build' (its go-plugin step) first.");
        }
    }

    /// <summary>A Python worker that says NOT_SERVING and refuses Describe for its first health checks.</summary>
    public static string SlowToServePlugin => Path.Combine(RepoRoot, "tests/PolyglotPlugins/slow_to_serve.py");

    /// <summary>A Python worker whose health service answers NOT_SERVING to every check.</summary>
    public static string NeverServingPlugin => Path.Combine(RepoRoot, "tests/PolyglotPlugins/never_serving.py");

    /// <summary>A Python worker whose route answers with a 17 MiB body in one message.</summary>
    public static string WholeBodyChunkPlugin => Path.Combine(RepoRoot, "tests/PolyglotPlugins/whole_body_chunk.py");

    public static string Packages => Path.Combine(RepoRoot, "build", "packages");

    /// <summary>The one package of <paramref name="id"/> that <c>make pack</c> built, or a failed assertion saying how to build it.</summary>
    public static string Package(string id)
    {
        var package = Directory.Exists(Packages) ? Directory.GetFiles(Packages, id + ".*.nupkg").SingleOrDefault() : null;
        Assert.True(package is not null, $"no {id} package in {Packages}: run 'make pack' (make test does)");
        return package;
    }

    public static string ReferenceHost => Output("examples/ReferenceHost", "GrpcPlugins.ReferenceHost.dll");

    public static string TestPlugin => Output("tests/TestPlugin", "TestPlugin.dll");

    /// <summary>A built example plugin folder, run by PluginWorker from its assembly.</summary>
    public static string Example(string project, string assembly) => Output(project, assembly);

    private static string Output(string project, string file)
    {
        var path = Path.Combine(RepoRoot, project, "bin", Configuration, "net10.0", file);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is not built; run 'make build' first.");
    }

    private static string Metadata(string key) =>
        s_self.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
}
