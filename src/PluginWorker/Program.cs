using GrpcPlugins.PluginWorker.Loading;
using GrpcPlugins.Sdk;

// Usage: GrpcPlugins.PluginWorker --assembly /path/to/Plugin.dll
var index = Array.IndexOf(args, "--assembly");
if (index < 0 || index + 1 >= args.Length)
{
    await Console.Error.WriteLineAsync("usage: GrpcPlugins.PluginWorker --assembly /path/to/Plugin.dll (the host starts this for plugins whose manifest names an 'assembly')");
    return 2;
}

var assembly = args[index + 1];
try
{
    var plugin = PluginActivator.Create(assembly, out var error);
    if (plugin is null)
    {
        await Console.Error.WriteLineAsync("fail: " + error);
        return 3;
    }

    return await PluginRunner.RunAsync(plugin, [.. args.Where((_, i) => i != index && i != index + 1)]);
}
catch (Exception ex) when (SdkMismatch.Explain(ex, assembly) is { } mismatch)
{
    await Console.Error.WriteLineAsync("fail: " + mismatch);
    return 3;
}
