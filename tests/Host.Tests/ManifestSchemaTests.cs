using System.Reflection;
using GrpcPlugins.Host.Registry;
using NJsonSchema;

namespace GrpcPlugins.Host.Tests;

/// <summary>docs/plugin.schema.json and the reader agree on every example manifest in the repository, and the template's.</summary>
public sealed class ManifestSchemaTests
{
    private static readonly string s_root = typeof(ManifestSchemaTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepoRoot").Value!;

    public static TheoryData<string> Examples()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(s_root, "examples"), "plugin.json", SearchOption.AllDirectories)
                     .Where(f => !f.Contains("/bin/", StringComparison.Ordinal) && !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("node_modules", StringComparison.Ordinal)))
        {
            data.Add(Path.GetRelativePath(s_root, file));
        }

        // The template's manifests, one per way of hosting, as dotnet new writes them (its names replaced are valid ids and file names).
        foreach (var file in Directory.GetFiles(Path.Combine(s_root, "src/Templates/grpc-plugin"), "plugin.*.json"))
        {
            data.Add(Path.GetRelativePath(s_root, file));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public async Task ExampleManifest_IsValidAgainstTheSchema_AndTheReader(string relative)
    {
        var schema = await JsonSchema.FromFileAsync(Path.Combine(s_root, "docs/plugin.schema.json"));
        var json = await File.ReadAllTextAsync(Path.Combine(s_root, relative));

        var schemaErrors = schema.Validate(json);
        ManifestReader.Parse(json, "/nonexistent", out var readerErrors);

        Assert.Empty(schemaErrors);
        // The folder does not exist here, so only the assembly's presence may fail.
        Assert.All(readerErrors, e => Assert.StartsWith("$.assembly:", e, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Schema_RefusesWhatTheReaderRefuses()
    {
        var schema = await JsonSchema.FromFileAsync(Path.Combine(s_root, "docs/plugin.schema.json"));
        const string json = """{ "id": "Bad Id", "version": "one", "command": "x", "assembly": "y", "permissions": ["root"], "colour": 1 }""";

        Assert.NotEmpty(schema.Validate(json));
        Assert.Null(ManifestReader.Parse(json, "/p", out _));
    }

    [Theory]
    [InlineData("""{ "attach": { "address": "https://orders.internal:7001" } }""", true)]
    [InlineData("""{ "attach": { "address": "https://10.0.0.5:7001/" } }""", true)]
    [InlineData("""{ "attach": { "address": "http://orders.internal:7001" } }""", false)]
    [InlineData("""{ "attach": { "address": "https://orders.internal" } }""", false)]
    [InlineData("""{ "attach": { "address": "https://orders.internal:7001/grpc" } }""", false)]
    [InlineData("""{ "attach": {} }""", false)]
    [InlineData("""{ "attach": { "address": "https://orders.internal:7001" }, "command": "./run" }""", false)]
    [InlineData("""{ "attach": { "address": "https://orders.internal:7001" }, "env": { "A": "b" } }""", false)]
    public async Task SchemaAndReader_AgreeOnAnAttachedWorker(string fields, bool valid)
    {
        var schema = await JsonSchema.FromFileAsync(Path.Combine(s_root, "docs/plugin.schema.json"));
        var json = $$"""{ "id": "demo", "version": "1.0.0", {{fields[1..^1]}} }""";

        Assert.Equal(valid, schema.Validate(json).Count == 0);
        Assert.Equal(valid, ManifestReader.Parse(json, "/p", out _) is not null);
    }

    [Theory]
    [InlineData("""{"maxThreads": 64}""", true)]
    [InlineData("""{"maxThreads": 8}""", false)]
    [InlineData("""{"cpus": 0.5}""", true)]
    [InlineData("""{"cpus": 2}""", true)]
    [InlineData("""{"cpus": 0}""", false)]
    [InlineData("""{"cpus": 2000}""", false)]
    [InlineData("""{"memoryMiB": 256, "dataMiB": 64, "maxConcurrentCalls": 8, "maxWebSockets": 4}""", true)]
    [InlineData("""{"memoryMiB": 8}""", false)]
    [InlineData("""{"dataMiB": 0}""", false)]
    [InlineData("""{"threads": 64}""", false)]
    public async Task SchemaAndReader_AgreeOnLimits(string limits, bool valid)
    {
        var schema = await JsonSchema.FromFileAsync(Path.Combine(s_root, "docs/plugin.schema.json"));
        var json = $$"""{ "id": "demo", "version": "1.0.0", "command": "./run", "limits": {{limits}} }""";

        Assert.Equal(valid, schema.Validate(json).Count == 0);
        Assert.Equal(valid, ManifestReader.Parse(json, "/p", out _) is not null);
    }

    [Theory]
    [InlineData("""{"LD_LIBRARY_PATH": "${pluginDir}/native"}""", true)]
    [InlineData("""{"PLUGIN_TOKEN": "x"}""", false)]
    [InlineData("""{"1BAD": "x"}""", false)]
    [InlineData("""{"N": 1}""", false)]
    public async Task SchemaAndReader_AgreeOnAnEnv(string env, bool valid)
    {
        var schema = await JsonSchema.FromFileAsync(Path.Combine(s_root, "docs/plugin.schema.json"));
        var json = $$"""{ "id": "demo", "version": "1.0.0", "command": "./run", "env": {{env}} }""";

        Assert.Equal(valid, schema.Validate(json).Count == 0);
        Assert.Equal(valid, ManifestReader.Parse(json, "/p", out _) is not null);
    }
}
