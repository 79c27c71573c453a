using System.Security.Cryptography;
using System.Text;
using GrpcPlugins.Host.Hosting;

namespace GrpcPlugins.Host.Auth;

/// <summary>
/// The admin keys in force, each under the name the audit trail records its holder by.
/// Only their SHA-256 digests are kept; a presented key is compared with every one in
/// constant time, so neither its length nor which key it nearly matched shows in the timing.
/// </summary>
internal sealed class AdminKeySet
{
    /// <summary>The name <see cref="PluginHostOptions.AdminApiKey"/> stands for.</summary>
    public const string DefaultName = "admin";

    /// <summary>The shortest key accepted: a word or a name is guessed, lockout or not.</summary>
    public const int MinKeyLength = 12;

    /// <summary>The longest holder name, and what it may hold: it is written into logs and the audit trail.</summary>
    public const int MaxNameLength = 64;

    private readonly (string Name, byte[] Digest)[] _keys;
    private readonly HashSet<string> _readOnly;

    private AdminKeySet((string Name, byte[] Digest)[] keys, IEnumerable<string> readOnly)
    {
        _keys = keys;
        _readOnly = new HashSet<string>(readOnly, StringComparer.Ordinal);
    }

    /// <summary>The holders' names, in order.</summary>
    public IEnumerable<string> Names => _keys.Select(k => k.Name);

    public bool IsEmpty => _keys.Length == 0;

    /// <summary>The keys the options name: <see cref="PluginHostOptions.AdminApiKey"/> as "admin", then <see cref="PluginHostOptions.AdminApiKeys"/>.</summary>
    public static AdminKeySet From(PluginHostOptions options) =>
        new([.. Configured(options).Select(k => (k.Name, Digest(k.Key)))], options.ReadOnlyAdmins);

    /// <summary>Whether <paramref name="holder"/>'s key may only read (<see cref="PluginHostOptions.ReadOnlyAdmins"/>).</summary>
    public bool IsReadOnly(string holder) => _readOnly.Contains(holder);

    /// <summary>The holder of <paramref name="presented"/>, or null when it is no admin key.</summary>
    public string? Find(string? presented)
    {
        if (presented is null)
        {
            return null;
        }

        var digest = Digest(presented);
        string? holder = null;
        foreach (var (name, key) in _keys)
        {
            // Every key is compared: an early exit would tell a caller how far down the list it got.
            if (CryptographicOperations.FixedTimeEquals(digest, key))
            {
                holder = name;
            }
        }

        return holder;
    }

    /// <summary>Whether both sets hold the same holders with the same keys.</summary>
    public bool SameAs(AdminKeySet other) =>
        _keys.Length == other._keys.Length && _keys.Zip(other._keys).All(p => p.First.Name == p.Second.Name && p.First.Digest.AsSpan().SequenceEqual(p.Second.Digest))
        && _readOnly.SetEquals(other._readOnly);

    /// <summary>What is wrong with the configured keys, each with its fix; never quoting a key.</summary>
    public static IEnumerable<string> Problems(PluginHostOptions options)
    {
        foreach (var (name, key, setting) in Configured(options))
        {
            if (name.Length is 0 or > MaxNameLength || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '@'))
            {
                yield return $"{setting}: a key holder's name takes 1 to {MaxNameLength} letters, digits, '.', '_', '-' or '@' (it is what the audit trail records), such as 'alice' or 'ci-deploy'.";
            }

            if (key.Length < MinKeyLength)
            {
                yield return $"{setting} is {key.Length} characters long; use at least {MinKeyLength} (a long random one, such as the output of 'openssl rand -base64 32').";
            }
        }

        if (options.AdminApiKey is { Length: > 0 } && options.AdminApiKeys.ContainsKey(DefaultName))
        {
            yield return $"PluginHost:AdminApiKey and PluginHost:AdminApiKeys:{DefaultName} both name a key for '{DefaultName}'; keep one of them.";
        }

        foreach (var shared in Configured(options).GroupBy(k => k.Key, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            yield return $"PluginHost:AdminApiKeys gives {string.Join(" and ", shared.Select(k => $"'{k.Name}'"))} the same key, so the audit trail could not tell them apart; give each holder a key of their own.";
        }
    }

    /// <summary>Every key configured, with its holder and the setting that names it.</summary>
    private static IEnumerable<(string Name, string Key, string Setting)> Configured(PluginHostOptions options)
    {
        if (options.AdminApiKey is { Length: > 0 } key)
        {
            yield return (DefaultName, key, "PluginHost:AdminApiKey");
        }

        foreach (var (name, value) in options.AdminApiKeys.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            // A holder whose key was blanked out (a secret file emptied to revoke it) holds none.
            if (!string.IsNullOrEmpty(value))
            {
                yield return (name, value, $"PluginHost:AdminApiKeys:{name}");
            }
        }
    }

    private static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
