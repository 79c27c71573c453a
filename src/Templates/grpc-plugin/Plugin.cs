using System.Text.Json;
using System.Text.Json.Nodes;
using GrpcPlugins.Sdk;

namespace Company.Plugin;

/// <summary>
/// A request hook, a route and settings: replace them with your own. Id and Version must
/// equal plugin.json's (the host refuses a plugin that disagrees with its manifest).
/// </summary>
public sealed class Plugin : IPlugin
{
    // The settings each tenant's admin set, kept as they arrive: a hook or route must not
    // ask the host for them on every call. The default tenant's key is the empty string.
    private readonly Dictionary<string, string> _greetings = [];
    private readonly Lock _gate = new();

    public string Id => "company-plugin";

    public string Version => "1.0.0";

    public void Configure(PluginBuilder plugin)
    {
        // plugin.json's settingsSchema is the same document: the host validates with it before
        // this callback runs; the callback refuses what a schema cannot say.
        plugin.UseSettings(
            """
            {
              "type": "object",
              "properties": {
                "greeting": { "type": "string", "minLength": 1, "maxLength": 100 }
              },
              "additionalProperties": false
            }
            """,
            (settings, _) =>
            {
                lock (_gate)
                {
                    if (settings.Removed)
                    {
                        _greetings.Remove(settings.TenantId);
                    }
                    else
                    {
                        using var document = JsonDocument.Parse(settings.Json);
                        _greetings[settings.TenantId] = document.RootElement.TryGetProperty("greeting", out var greeting)
                            ? greeting.GetString()!
                            : "Hello";
                    }
                }

                return ValueTask.FromResult<IReadOnlyList<SettingError>>([]);
            });

        // Sees every request the host runs its "request" hook point for; the match in plugin.json
        // (the same as here) spares this plugin the calls it does not care about.
        plugin.OnHook("request", new HookMatch { Methods = ["POST", "PUT"] }, call =>
            call.BodyText.Contains("forbidden", StringComparison.OrdinalIgnoreCase)
                ? HookResult.ShortCircuit(403, "company-plugin refused this request: it says 'forbidden'")
                : HookResult.Continue);

        // GET /plugins/company-plugin/hello on the host.
        plugin.MapGet("/hello", ctx => ctx.Response.WriteJsonAsync(new JsonObject
        {
            ["plugin"] = Id,
            ["version"] = Version,
            ["greeting"] = Greeting(ctx.Request.TenantId),
        }.ToJsonString()));
    }

    private string Greeting(string tenantId)
    {
        lock (_gate)
        {
            // A tenant without settings of its own gets the plugin-wide ones (the empty tenant).
            return _greetings.TryGetValue(tenantId, out var greeting) || _greetings.TryGetValue(string.Empty, out greeting) ? greeting : "Hello";
        }
    }
}
