using System.Globalization;

namespace GrpcPlugins.Supervisor.Limits;

/// <summary>Reading and writing a cgroup's interface files, for the memory, pids and cpu controllers alike.</summary>
internal static class CgroupFiles
{
    /// <summary>The value of counter <paramref name="key"/> in a flat-keyed cgroup file's text ("oom_kill 3"), or 0.</summary>
    public static long ParseCounter(string text, string key)
    {
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2 && parts[0] == key && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                return value;
            }
        }

        return 0;
    }

    /// <summary>The counter <paramref name="key"/> of a flat-keyed file; 0 once the cgroup is gone.</summary>
    public static long ReadCounter(string file, string key)
    {
        try
        {
            return ParseCounter(File.ReadAllText(file), key);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>A file holding one number ("4096\n"); 0 once the cgroup is gone or when it says "max".</summary>
    public static long ReadNumber(string file)
    {
        try
        {
            return long.TryParse(File.ReadAllText(file).AsSpan().Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : 0;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>Writes <paramref name="value"/>; throws, saying what the host could not do and how to fix it, when the kernel refuses.</summary>
    public static void Write(string file, string value, string directory, string purpose, string option)
    {
        try
        {
            File.WriteAllText(file, value);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"The host cannot write {Path.GetFileName(file)} in cgroup '{directory}' to {purpose}: {ex.Message}. Give the host a delegated cgroup it owns, or leave {option} unset.", ex);
        }
    }
}
