using System.Reflection;

namespace GrpcPlugins.PluginWorker.Loading;

/// <summary>
/// A plugin built against a newer Sdk than the one this worker carries (the Sdk is the one
/// assembly a plugin shares with its worker): its first use of what this Sdk lacks fails to
/// load. Said as that, with the two ways out, instead of as the bare load failure.
/// </summary>
internal static class SdkMismatch
{
    /// <summary>Why <paramref name="exception"/> ended the plugin's load or start, when it is a missing Sdk member; else null.</summary>
    public static string? Explain(Exception exception, string assemblyPath)
    {
        if (exception is ReflectionTypeLoadException types)
        {
            return types.LoaderExceptions.OfType<Exception>().Select(e => Explain(e, assemblyPath)).FirstOrDefault(e => e is not null);
        }

        var missing = exception switch
        {
            TypeLoadException load when load.TypeName.StartsWith("GrpcPlugins.Sdk", StringComparison.Ordinal) => $"the type {load.TypeName}",
            MissingMemberException member when member.Message.Contains("GrpcPlugins.Sdk", StringComparison.Ordinal) => member.Message,
            _ => null,
        };
        if (missing is null)
        {
            return null;
        }

        var sdk = typeof(Sdk.IPlugin).Assembly;
        return $"plugin '{assemblyPath}' uses {missing}, which this PluginWorker's GrpcPlugins.Sdk ({sdk.GetName().Version}, {sdk.Location}) does not have: "
            + "the plugin was built against a newer Sdk. Update the host's PluginWorker (PluginHost:WorkerPath) to one built with that Sdk, "
            + "or run the plugin as a process of its own (\"command\": \"dotnet\", \"args\": [\"" + Path.GetFileName(assemblyPath) + "\"]), which carries its own Sdk.";
    }
}
