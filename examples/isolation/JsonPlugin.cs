using System.Reflection;
using GrpcPlugins.Sdk;
using Newtonsoft.Json;

namespace Isolation;

/// <summary>
/// Reports the Newtonsoft.Json its process actually loaded. Built twice, against
/// two major versions, and run side by side: each plugin gets its own.
/// </summary>
public sealed class JsonPlugin : IPlugin
{
    private static readonly AssemblyName s_name = typeof(JsonPlugin).Assembly.GetName();

    public string Id => s_name.Name == "JsonOld" ? "json-old" : "json-new";

    public string Version => "1.0.0";

    public void Configure(PluginBuilder plugin) =>
        plugin.MapGet("/version", ctx => ctx.Response.WriteJsonAsync(JsonConvert.SerializeObject(new
        {
            plugin = Id,
            newtonsoftJson = typeof(JsonConvert).Assembly.GetName().Version!.ToString(),
            pid = Environment.ProcessId,
        })), allowAnonymous: true);
}
