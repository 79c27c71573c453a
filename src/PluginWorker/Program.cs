using GrpcPlugins.PluginWorker.Loading;
using GrpcPlugins.Sdk;

// Usage: GrpcPlugins.PluginWorker --assembly /path/to/Plugin.dll
var index = Array.IndexOf(args, "--assembly");
if (index < 0 || index + 1 >= args.Length)
{
    await Console.Error.WriteLineAsync("usage: GrpcPlugins.PluginWorker --assembly /path/to/Plugin.dll (the host starts this for plugins whose manifest names an 'assembly')");
    return 2;
}

var plugin = PluginActivator.Create(args[index + 1], out var error);
if (plugin is null)
{
    await Console.Error.WriteLineAsync("fail: " + error);
    return 3;
}

return await PluginRunner.RunAsync(plugin, [.. args.Where((_, i) => i != index && i != index + 1)]);
