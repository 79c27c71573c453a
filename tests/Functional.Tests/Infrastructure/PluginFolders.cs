using System.Text.Json.Nodes;

namespace GrpcPlugins.Functional.Tests.Infrastructure;

/// <summary>Writes plugin folders (a plugin.json each) for a test's plugins directory.</summary>
internal static class PluginFolders
{
    public const string TestSettingsSchema = """
        {
          "type": "object",
          "properties": {
            "greeting": { "type": "string", "maxLength": 20 },
            "limit": { "type": "integer", "minimum": 1 },
            "apiKey": { "type": "string", "writeOnly": true }
          },
          "additionalProperties": false
        }
        """;

    /// <summary>The hello example's hooks, read from its plugin.json (its response hook is headers only), so the tests cannot drift from it.</summary>
    public static JsonArray HelloHooks() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "examples/hello/plugin.json")))!["hooks"]!.DeepClone().AsArray();

    /// <summary>The hello example, run by PluginWorker from its assembly.</summary>
    public static JsonObject Hello(string id = "hello") => new()
    {
        ["id"] = id,
        ["version"] = "1.0.0",
        ["assembly"] = TestPaths.HelloAssembly,
        ["hooks"] = HelloHooks(),
        ["routes"] = new JsonArray(new JsonObject { ["method"] = "GET", ["path"] = "/ping", ["anonymous"] = true }),
    };

    /// <summary>The test plugin in <paramref name="mode"/>, run as its own command.</summary>
    public static JsonObject Test(string id, string mode = "normal", params string[] extraArgs)
    {
        var args = new JsonArray(TestPaths.TestPlugin, mode);
        foreach (var arg in extraArgs)
        {
            args.Add(arg);
        }

        return new JsonObject
        {
            ["id"] = id,
            ["version"] = "1.0.0",
            ["command"] = "dotnet",
            ["args"] = args,
            ["hooks"] = new JsonArray("request"),
            ["permissions"] = new JsonArray("settings.read"),
            ["settingsSchema"] = JsonNode.Parse(TestSettingsSchema),
            ["routes"] = new JsonArray(new JsonObject { ["method"] = "*", ["path"] = "/*" }),
        };
    }

    public static void Write(string pluginsDirectory, JsonObject manifest, string? folderName = null)
    {
        var folder = Path.Combine(pluginsDirectory, folderName ?? manifest["id"]!.GetValue<string>());
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "plugin.json"), manifest.ToJsonString());
    }
}
