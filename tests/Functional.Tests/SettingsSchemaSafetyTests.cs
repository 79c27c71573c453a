using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Supervisor.Supervision;

namespace GrpcPlugins.Functional.Tests;

/// <summary>
/// A plugin's settings schema is third-party input the host runs: through a real host and
/// real workers, a schema must neither send the host's requests where it says nor hold the
/// host's threads with a pattern that backtracks.
/// </summary>
public sealed class SettingsSchemaSafetyTests
{
    // Exponential on a backtracking engine: this value would hold a thread for longer than the universe.
    private static readonly string Attack = new string('a', 40) + "!";

    // The test fails rather than hangs when the host does.
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task AValueAgainstABacktrackingPattern_IsRefusedPromptly_ToTheAdminAndThePlugin_AndTheHostKeepsServing()
    {
        var manifest = PluginFolders.Test("t");
        manifest["permissions"] = new JsonArray("settings.read", "settings.write");
        var greeting = manifest["settingsSchema"]!["properties"]!["greeting"]!.AsObject();
        greeting.Remove("maxLength");
        greeting["pattern"] = "^(a+)+$";
        await using var host = await TestHost.StartAsync(manifest);
        await host.WaitForStateAsync("t", WorkerState.Ready);
        var attack = $$"""{"greeting":"{{Attack}}"}""";

        // Four at once: on the old path each held a pool thread for good.
        var admins = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => host.Admin.PutAsync("/admin/api/plugins/t/settings", SettingsAndAdminTests.Json(attack)))).WaitAsync(Guard);
        var fromPlugin = await (await host.Admin.PostAsync("/plugins/t/settings", SettingsAndAdminTests.Json(attack)).WaitAsync(Guard)).Content.ReadAsStringAsync();
        var matching = await host.Admin.PutAsync("/admin/api/plugins/t/settings", SettingsAndAdminTests.Json("""{"greeting":"aaaa"}""")).WaitAsync(Guard);
        var health = await host.Admin.GetAsync("/healthz").WaitAsync(Guard);

        Assert.All(admins, a => Assert.Equal(HttpStatusCode.UnprocessableEntity, a.StatusCode));
        var error = Assert.Single((await admins[0].Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").EnumerateArray());
        Assert.Equal(("/greeting", "PatternMismatch: does not match the schema"), (error.GetProperty("path").GetString(), error.GetProperty("message").GetString()));
        Assert.StartsWith("InvalidArgument", fromPlugin, StringComparison.Ordinal);
        Assert.Contains("PatternMismatch", fromPlugin, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, matching.StatusCode);
        Assert.Equal("aaaa", (await host.Admin.GetFromJsonAsync<JsonElement>("/plugins/t/last-configured")).GetProperty("greeting").GetString());
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task ASchemaReferringOutsideItself_InAManifestOrInDescribe_IsRefusedWithTheFix_AndTheHostSendsNoRequest()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var url = $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/schema.json";
        var outside = new JsonObject { ["type"] = "object", ["properties"] = new JsonObject { ["greeting"] = new JsonObject { ["$ref"] = url } } };
        var inManifest = PluginFolders.Test("m");
        inManifest["settingsSchema"] = outside.DeepClone();
        var inDescribe = PluginFolders.Test("d", "describe-schema", outside.ToJsonString());
        inDescribe.Remove("settingsSchema");
        await using var host = await TestHost.StartAsync(inManifest, inDescribe);
        host.ExpectErrors = true;

        var describeRefused = await host.WaitForAsync("d", s => s.LastError is not null, "d's refused start");
        var manifestRefused = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/m");

        Assert.Equal("refused", manifestRefused.GetProperty("lifecycle").GetString());
        Assert.Contains($"$.settingsSchema.properties.greeting.$ref: '{url}' points outside the schema", manifestRefused.GetProperty("lifecycleReason").GetString(), StringComparison.Ordinal);
        Assert.Contains($"plugin 'd' published a settings schema in Describe that the host cannot use: settings_schema_json.properties.greeting.$ref: '{url}' points outside the schema", describeRefused.LastError, StringComparison.Ordinal);
        Assert.Contains("copy what it points to into the schema's \"definitions\"", describeRefused.LastError, StringComparison.Ordinal);
        Assert.False(listener.Pending(), "the host sent a request where the schema's reference said");
    }
}
