using System.Text;
using GrpcPlugins.Host.Files;

namespace GrpcPlugins.Host.Registry;

/// <summary>
/// Checks a manifest's <c>command</c> path when the manifest is read, not at each start: a script
/// without its execute bit, or whose <c>#!</c> line names an interpreter this machine lacks, otherwise
/// failed every start with an exit code (13, 2) and a terse line from exec, until the crash-loop
/// breaker stopped it. A command without a '/' is looked up on PATH when it starts, and not checked here.
/// </summary>
internal static class ManifestCommand
{
    private const UnixFileMode AnyExecute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    // A #! line is at most a page on Linux; the interpreter's path is what is looked at.
    private const int FirstLineBytes = 256;

    /// <summary>What is wrong with the file <paramref name="command"/> names in <paramref name="folder"/>, or null.</summary>
    public static string? Problem(string command, string folder)
    {
        if (!command.Contains('/', StringComparison.Ordinal))
        {
            return null;
        }

        var path = Path.GetFullPath(command, folder);
        if (Directory.Exists(path))
        {
            return $"$.command: '{command}' is a directory ({path}); name the executable in it.";
        }

        if (!File.Exists(path))
        {
            return $"$.command: '{command}' does not exist ({path}); give the executable's path relative to the plugin folder (./run.sh) or absolute, or a command on the host's PATH without a '/'.";
        }

        var mode = File.GetUnixFileMode(path);
        if ((mode & AnyExecute) == 0)
        {
            return $"$.command: '{command}' is not executable (its mode is {Convert.ToString((int)mode, 8)}): run `chmod +x {command}` in the plugin folder before packing it; a bundle keeps the mode.";
        }

        return Interpreter(path) is { } interpreter && interpreter.StartsWith('/') && !File.Exists(interpreter)
            ? $"$.command: '{command}' starts with '#!{interpreter}', which does not exist on this machine: install it, or start the script with `#!/usr/bin/env {Path.GetFileName(interpreter)}` to take it from PATH."
            : null;
    }

    /// <summary>The interpreter a script's #! line names, or null for a file that is no script (or cannot be read, which its start then reports).</summary>
    private static string? Interpreter(string path)
    {
        byte[] head;
        try
        {
            using var file = RegularFile.OpenRead(path);
            head = new byte[FirstLineBytes];
            head = head.AsSpan(0, file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false)).ToArray();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        if (!head.AsSpan().StartsWith("#!"u8))
        {
            return null;
        }

        var line = Encoding.UTF8.GetString(head, 2, head.Length - 2);
        var end = line.IndexOf('\n', StringComparison.Ordinal);
        var words = (end < 0 ? line : line[..end]).Split([' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries);
        return words.Length == 0 ? null : words[0];
    }
}
