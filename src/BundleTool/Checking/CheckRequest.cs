namespace GrpcPlugins.BundleTool.Checking;

/// <summary>
/// What <c>check</c> was asked: the plugin folder (or bundle) to check, the PluginWorker that
/// runs a C# plugin's assembly, settings to give it first, the folders of plugins it depends
/// on, the publisher keys a bundle is verified against, the file a report for machines goes to, and
/// the route calls the author asks for beyond those the check makes by itself.
/// </summary>
internal sealed record CheckRequest(string Folder, string? WorkerPath, string? SettingsFile, IReadOnlyList<string> Dependencies, string? TrustDirectory = null, string? ReportFile = null, IReadOnlyList<RouteCall>? Calls = null)
{
    public const string Usage = "check <plugin-folder | bundle> [--worker <GrpcPlugins.PluginWorker.dll>] [--settings <settings.json>] [--with <dependency-folder>]... [--trust <trust-dir>] [--report <report.json>] [--call " + RouteCall.Syntax + "]...";

    /// <summary>True when a bundle file was given rather than a folder.</summary>
    public bool IsBundle => File.Exists(Folder) && !Directory.Exists(Folder);

    /// <summary>The request <paramref name="args"/> (after "check") make, or null with the reason.</summary>
    public static CheckRequest? Parse(IReadOnlyList<string> args, out string? problem)
    {
        problem = null;
        string? folder = null, worker = null, settings = null, trust = null, report = null;
        var dependencies = new List<string>();
        var calls = new List<RouteCall>();
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
                    case "--trust":
                        trust = value;
                        break;
                    case "--call":
                        if (RouteCall.Parse(value, out problem) is not { } call)
                        {
                            return null;
                        }

                        calls.Add(call);
                        break;
                    case "--report":
                        report = Path.GetFullPath(value);
                        if (!Directory.Exists(Path.GetDirectoryName(report)))
                        {
                            // Said before the check runs, not after a minute of it.
                            problem = $"--report {value}: its directory {Path.GetDirectoryName(report)} does not exist";
                            return null;
                        }

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

        return new CheckRequest(Path.GetFullPath(folder), worker is null ? null : Path.GetFullPath(worker), settings, [.. dependencies.Select(Path.GetFullPath)], trust, report, calls);
    }
}
