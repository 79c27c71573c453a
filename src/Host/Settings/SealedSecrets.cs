using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GrpcPlugins.Host.Settings;

/// <summary>
/// Secret settings (the schema's <c>writeOnly</c> or <c>x-secret</c> fields, at any depth) are kept sealed in
/// the store with ASP.NET Core Data Protection, so a copy of the database (a backup, a support
/// bundle) does not carry a plugin's passwords in clear. The key ring is the host's own, in its
/// state directory, apart from the application's Data Protection setup, which a library must not
/// change. A sealed value says so in itself, so reading needs no schema: a field that stopped
/// being secret in an upgrade is still opened.
/// </summary>
internal sealed partial class SealedSecrets(IDataProtector protector, string keyRing, ILogger<SealedSecrets> logger)
{
    public const string Marker = "gpsealed1:";

    private const string ApplicationName = "GrpcPlugins.Host";
    private const string Purpose = "GrpcPlugins.Host.Settings.Secrets.v1";

    // Each value that cannot be opened is logged once, not at every read of it.
    private readonly ConcurrentDictionary<string, byte> _reported = new(StringComparer.Ordinal);

    public static SealedSecrets Create(string stateDirectory, ILogger<SealedSecrets> logger)
    {
        var keys = Path.GetFullPath(Path.Combine(stateDirectory, "keys"));
        var provider = DataProtectionProvider.Create(new DirectoryInfo(keys), builder => builder.SetApplicationName(ApplicationName));
        return new SealedSecrets(provider.CreateProtector(Purpose), keys, logger);
    }

    /// <summary>
    /// Secrets sealed with a key ring host replicas share (each opens what another sealed). With
    /// <paramref name="keyRingCertificate"/>, the ring's keys are themselves encrypted to it, so
    /// the database alone (a backup, a copy) opens no secret; every replica needs the certificate.
    /// </summary>
    public static SealedSecrets CreateShared(IXmlRepository keyRing, string where, X509Certificate2? keyRingCertificate, ILogger<SealedSecrets> logger)
    {
        var services = new ServiceCollection();
        var builder = services.AddDataProtection()
            .SetApplicationName(ApplicationName)
            .AddKeyManagementOptions(o => o.XmlRepository = keyRing);
        if (keyRingCertificate is not null)
        {
            // Registered for reading too: on Linux no certificate store would find it by thumbprint.
            builder.ProtectKeysWithCertificate(keyRingCertificate).UnprotectKeysWithAnyCertificate(keyRingCertificate);
        }

        // Kept for the host's lifetime with the protector that holds its key ring.
        var provider = services.BuildServiceProvider().GetRequiredService<IDataProtectionProvider>();
        return new SealedSecrets(provider.CreateProtector(Purpose), where, logger);
    }

    /// <summary>
    /// The settings with each value at one of <paramref name="secrets"/>' paths (<see cref="SecretFields"/>)
    /// sealed; <paramref name="json"/> itself, as it was written, when none was left to seal.
    /// </summary>
    public string Seal(string json, IReadOnlySet<string> secrets)
    {
        if (secrets.Count == 0 || JsonNode.Parse(json) is not JsonObject settings)
        {
            return json;
        }

        var sealedAny = false;
        foreach (var path in secrets)
        {
            SecretSlots.Replace(settings, path, (_, value) =>
            {
                if (value is null || IsSealed(value))
                {
                    return value;
                }

                sealedAny = true;
                return Marker + protector.Protect(value.ToJsonString());
            });
        }

        return sealedAny ? settings.ToJsonString() : json;
    }

    /// <summary>
    /// The settings with every sealed value opened, at any depth; unchanged when nothing in them
    /// is sealed. A value sealed under a key ring this host does not have reads as missing,
    /// logged once as an error: the plugin then lacks that secret (a required one stops its
    /// start with "required settings missing", which an admin fixes by setting it again)
    /// instead of the whole read failing, which would keep the admin from setting it again.
    /// </summary>
    public string Open(string json, string pluginId, string tenantId)
    {
        if (!json.Contains(Marker, StringComparison.Ordinal) || JsonNode.Parse(json) is not JsonObject settings)
        {
            return json;
        }

        OpenWithin(settings, string.Empty, pluginId, tenantId);
        return settings.ToJsonString();
    }

    private void OpenWithin(JsonNode node, string pointer, string pluginId, string tenantId)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, value) in obj.ToList())
                {
                    var place = pointer + "/" + SecretSlots.Step(name);
                    if (value is not null && IsSealed(value))
                    {
                        if (Opened(value, place, pluginId, tenantId) is { } opened)
                        {
                            obj[name] = opened;
                        }
                        else
                        {
                            obj.Remove(name);
                        }
                    }
                    else if (value is not null)
                    {
                        OpenWithin(value, place, pluginId, tenantId);
                    }
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    if (array[i] is { } item)
                    {
                        // An item cannot be left out without moving the others: unreadable, it is null.
                        if (IsSealed(item))
                        {
                            array[i] = Opened(item, $"{pointer}/{i}", pluginId, tenantId);
                        }
                        else
                        {
                            OpenWithin(item, $"{pointer}/{i}", pluginId, tenantId);
                        }
                    }
                }

                break;
        }
    }

    private JsonNode? Opened(JsonNode value, string place, string pluginId, string tenantId)
    {
        var text = value.GetValue<string>();
        try
        {
            return JsonNode.Parse(protector.Unprotect(text[Marker.Length..]));
        }
        catch (CryptographicException ex)
        {
            if (_reported.TryAdd(text, 0))
            {
                Log.CannotOpen(logger, pluginId, tenantId.Length == 0 ? "plugin-wide" : $"tenant '{tenantId}'", place.TrimStart('/'), keyRing, ex.Message);
            }

            return null;
        }
    }

    private static bool IsSealed(JsonNode value) =>
        value is JsonValue text && text.TryGetValue<string>(out var s) && s.StartsWith(Marker, StringComparison.Ordinal);

    private static partial class Log
    {
        [LoggerMessage(EventId = 1050, EventName = "SecretSettingUnreadable", Level = LogLevel.Error, Message = "Plugin {PluginId}'s {Scope} secret setting '{Name}' cannot be opened: the key ring in {KeyRing} is not the one that sealed it ({Problem}). It reads as missing. Restore that key ring from the host's backup, or set the secret again through the admin API.")]
        public static partial void CannotOpen(ILogger logger, string pluginId, string scope, string name, string keyRing, string problem);
    }
}
