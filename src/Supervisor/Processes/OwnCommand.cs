namespace GrpcPlugins.Supervisor.Processes;

/// <summary>
/// This program as a command line another process can run: <c>dotnet</c> and the entry assembly when
/// it was run that way, else the program alone (its apphost, or the one executable of a NativeAOT
/// publish, where an assembly has no location and argv[0] need not be a path).
/// </summary>
internal static class OwnCommand
{
    /// <summary>The program, then the assembly it needs, if any; arguments go after.</summary>
    public static string[] Line()
    {
        var process = Environment.ProcessPath!;
        return Path.GetFileName(process) == "dotnet" && System.Reflection.Assembly.GetEntryAssembly()?.GetName().Name is { } entry
            ? [process, Path.Combine(AppContext.BaseDirectory, entry + ".dll")]
            : [process];
    }
}
