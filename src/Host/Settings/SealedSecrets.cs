using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.DataProtection;

namespace GrpcPlugins.Host.Settings;

/// <summary>
/// Secret settings (the schema's <c>writeOnly</c> or <c>x-secret</c> fields) are kept sealed in
/// the store with ASP.NET Core Data Protection, so a copy of the database (a backup, a support
/// bundle) does not carry a plugin's passwords in clear. The key ring is the host's own, in its
/// state directory, apart from the application's Data Protection setup, which a library must not
/// change. A sealed value says so in itself, so reading needs no schema: a field that stopped
/// being secret in an upgrade is still opened.
/// </summary>
internal sealed class SealedSecrets(IDataProtector protector, string keyDirectory)
{
    public const string Marker = "gpsealed1:";

    public static SealedSecrets Create(string stateDirectory)
    {
        var keys = Path.GetFullPath(Path.Combine(stateDirectory, "keys"));
        var provider = DataProtectionProvider.Create(new DirectoryInfo(keys), builder => builder.SetApplicationName("GrpcPlugins.Host"));
        return new SealedSecrets(provider.CreateProtector("GrpcPlugins.Host.Settings.Secrets.v1"), keys);
    }

    /// <summary>The settings with each of <paramref name="secrets"/> that has a value sealed.</summary>
    public string Seal(string json, IReadOnlySet<string> secrets)
    {
        if (secrets.Count == 0 || JsonNode.Parse(json) is not JsonObject settings)
        {
            return json;
        }

        foreach (var name in secrets)
        {
            if (settings[name] is { } value && !IsSealed(value))
            {
                settings[name] = Marker + protector.Protect(value.ToJsonString());
            }
        }

        return settings.ToJsonString();
    }

    /// <summary>The settings with every sealed value opened; unchanged when nothing in them is sealed.</summary>
    public string Open(string json)
    {
        if (!json.Contains(Marker, StringComparison.Ordinal) || JsonNode.Parse(json) is not JsonObject settings)
        {
            return json;
        }

        foreach (var (name, value) in settings.ToList())
        {
            if (value is not null && IsSealed(value))
            {
                try
                {
                    settings[name] = JsonNode.Parse(protector.Unprotect(value.GetValue<string>()[Marker.Length..]));
                }
                catch (CryptographicException ex)
                {
                    throw new CryptographicException(
                        $"The secret setting '{name}' cannot be opened: the key ring in {keyDirectory} is not the one that sealed it ({ex.Message}). Restore that directory from the host's backup, or set the secret again through the admin API.",
                        ex);
                }
            }
        }

        return settings.ToJsonString();
    }

    private static bool IsSealed(JsonNode value) =>
        value is JsonValue text && text.TryGetValue<string>(out var s) && s.StartsWith(Marker, StringComparison.Ordinal);
}
