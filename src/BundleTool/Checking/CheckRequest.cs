namespace GrpcPlugins.BundleTool.Checking;

/// <summary>
/// What <c>check</c> was asked: the plugin folder to check, the PluginWorker that runs a C#
/// plugin's assembly, settings to give it first, and the folders of plugins it depends on.
/// </summary>
internal sealed record CheckRequest(string Folder, string? WorkerPath, string? SettingsFile, IReadOnlyList<string> Dependencies)
{
    public const string Usage = "check <plugin-folder> [--worker <GrpcPlugins.PluginWorker.dll>] [--settings <settings.json>] [--with <dependency-folder>]...";

    /// <summary>The request <paramref name="args"/> (after "check") make, or null with the reason.</summary>
    public static CheckRequest? Parse(IReadOnlyList<string> args, out string? problem)
    {
        problem = null;
        string? folder = null, worker = null, settings = null;
        var dependencies = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                if (i + 1 >= args.Count)
                {
                    problem = $"{arg} needs a value";
                    return null;
                }

                var value = args[++i];
                switch (arg)
                {
                    case "--worker":
                        worker = value;
                        break;
                    case "--settings":
                        settings = value;
                        break;
                    case "--with":
                        dependencies.Add(value);
                        break;
                    default:
                        problem = $"unknown option {arg}";
                        return null;
                }
            }
            else if (folder is null)
            {
                folder = arg;
            }
            else
            {
                problem = $"one plugin folder at a time ('{folder}' and '{arg}' given); a plugin it depends on goes with --with";
                return null;
            }
        }

        if (folder is null)
        {
            problem = "no plugin folder given";
            return null;
        }

        return new CheckRequest(Path.GetFullPath(folder), worker is null ? null : Path.GetFullPath(worker), settings, [.. dependencies.Select(Path.GetFullPath)]);
    }
}
