using System.Reflection;
using System.Runtime.Loader;

namespace GrpcPlugins.PluginWorker.Loading;

/// <summary>
/// Loads a plugin assembly with its own deps.json and native libraries, so a
/// plugin's dependency versions never meet the worker's. Only the Sdk is
/// shared, because the plugin and the worker must agree on its types.
/// </summary>
internal sealed class PluginLoadContext(string pluginAssemblyPath) : AssemblyLoadContext(name: Path.GetFileNameWithoutExtension(pluginAssemblyPath), isCollectible: false)
{
    private static readonly string s_sdkName = typeof(Sdk.IPlugin).Assembly.GetName().Name!;
    private readonly AssemblyDependencyResolver _resolver = new(pluginAssemblyPath);

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (assemblyName.Name == s_sdkName)
        {
            return null;
        }

        var path = _resolver.ResolveAssemblyToPath(assemblyName);
        return path is null ? null : LoadFromAssemblyPath(path);
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        var path = _resolver.ResolveUnmanagedDllToPath(unmanagedDllName);
        return path is null ? IntPtr.Zero : LoadUnmanagedDllFromPath(path);
    }
}
