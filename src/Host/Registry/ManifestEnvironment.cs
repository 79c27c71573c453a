using System.Text.RegularExpressions;
using GrpcPlugins.Protocol;

namespace GrpcPlugins.Host.Registry;

/// <summary>
/// A manifest's <c>env</c>: variables its worker needs (a native driver's library path, a
/// vendored Python package folder), checked and with <c>${pluginDir}</c> expanded to the
/// plugin's folder, which a bundle install chooses and the author cannot know.
/// </summary>
internal static partial class ManifestEnvironment
{
    public const string PluginDirectory = "${pluginDir}";
    public const int MaxVariables = 64;
    public const int MaxValueLength = 32 * 1024;

    public static IReadOnlyDictionary<string, string> Read(Dictionary<string, string>? env, string folder, List<string> errors)
    {
        if (env is null || env.Count == 0)
        {
            return new Dictionary<string, string>(StringComparer.Ordinal);
        }

        if (env.Count > MaxVariables)
        {
            errors.Add($"$.env: {env.Count} variables; a worker takes at most {MaxVariables} from its manifest.");
        }

        var expanded = new Dictionary<string, string>(StringComparer.Ordinal);
        var fullFolder = Path.GetFullPath(folder);
        foreach (var (name, value) in env)
        {
            if (!NamePattern().IsMatch(name))
            {
                errors.Add($"$.env['{name}']: not a variable name; use letters, digits and '_', not starting with a digit.");
                continue;
            }

            if (name.StartsWith(HandshakeEnvironment.Prefix, StringComparison.Ordinal))
            {
                errors.Add($"$.env.{name}: {HandshakeEnvironment.Prefix}* variables are the handshake's, which the host sets for each worker; remove it.");
                continue;
            }

            if (value is null || value.Length > MaxValueLength || value.Contains('\0', StringComparison.Ordinal))
            {
                errors.Add($"$.env.{name}: give a string of at most {MaxValueLength} characters without NUL.");
                continue;
            }

            var rest = value.Replace(PluginDirectory, string.Empty, StringComparison.Ordinal);
            if (rest.Contains("${", StringComparison.Ordinal))
            {
                errors.Add($"$.env.{name}: '{value}' has a placeholder the host does not know; only {PluginDirectory} (the plugin's folder) is expanded.");
                continue;
            }

            expanded[name] = value.Replace(PluginDirectory, fullFolder, StringComparison.Ordinal);
        }

        return expanded;
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex NamePattern();
}
