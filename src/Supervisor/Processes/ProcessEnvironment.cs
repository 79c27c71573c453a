using System.Security.Cryptography;
using System.Text;

namespace GrpcPlugins.Supervisor.Processes;

/// <summary>
/// A process's environment as the kernel shows it: the block it was started with
/// (/proc/PID/environ), which it cannot change later and every child inherits. What finds the
/// processes a worker started by the token in theirs.
/// </summary>
internal static class ProcessEnvironment
{
    /// <summary>The entry <c>variable=value</c> as it stands in an environment block.</summary>
    public static byte[] Entry(string variable, string value) => Encoding.UTF8.GetBytes(variable + "=" + value);

    /// <summary>The environment block of <paramref name="pid"/>; null when it is gone or another user's.</summary>
    public static byte[]? Read(int pid)
    {
        try
        {
            return File.ReadAllBytes($"/proc/{pid}/environ");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Another user's process, or one gone meanwhile, cannot be read: not ours to find.
            return null;
        }
    }

    /// <summary>
    /// A digest of the entry <c>variable=value</c>, to find the processes holding it later without
    /// keeping the value (a worker's token) anywhere: hex SHA-256.
    /// </summary>
    public static string Digest(string variable, string value) => Convert.ToHexStringLower(SHA256.HashData(Entry(variable, value)));

    /// <summary>Whether <paramref name="environment"/> holds an entry of <paramref name="variable"/> whose <see cref="Digest"/> is one of <paramref name="digests"/>.</summary>
    public static bool HoldsDigest(ReadOnlySpan<byte> environment, string variable, IReadOnlySet<string> digests)
    {
        var prefix = Encoding.UTF8.GetBytes(variable + "=");
        return Any(environment, entry => entry.StartsWith(prefix) && digests.Contains(Convert.ToHexStringLower(SHA256.HashData(entry))));
    }

    /// <summary>Whether <paramref name="environment"/> holds <paramref name="entry"/> as one of its entries, whole.</summary>
    public static bool Holds(ReadOnlySpan<byte> environment, byte[] entry) => Any(environment, current => current.SequenceEqual(entry));

    /// <summary>The value of <paramref name="variable"/> in <paramref name="environment"/>; null when it holds none.</summary>
    public static string? Value(ReadOnlySpan<byte> environment, string variable)
    {
        var prefix = Encoding.UTF8.GetBytes(variable + "=");
        string? value = null;
        Any(environment, entry =>
        {
            if (!entry.StartsWith(prefix))
            {
                return false;
            }

            value = Encoding.UTF8.GetString(entry[prefix.Length..]);
            return true;
        });
        return value;
    }

    private delegate bool EntryTest(ReadOnlySpan<byte> entry);

    private static bool Any(ReadOnlySpan<byte> environment, EntryTest test)
    {
        // NUL-separated entries: "A=1\0B=2\0".
        while (environment.Length > 0)
        {
            var end = environment.IndexOf((byte)0);
            if (test(end < 0 ? environment : environment[..end]))
            {
                return true;
            }

            environment = end < 0 ? [] : environment[(end + 1)..];
        }

        return false;
    }
}
