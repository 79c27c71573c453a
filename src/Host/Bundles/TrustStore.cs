using System.Security.Cryptography;
using GrpcPlugins.Host.Files;

namespace GrpcPlugins.Host.Bundles;

/// <summary>The publisher keys the host trusts: PEM public keys, by key id.</summary>
internal sealed class TrustStore
{
    // A PEM public key is a few hundred bytes; a certificate chain a few KiB.
    private const int MaxKeyBytes = 64 << 10;

    private readonly Dictionary<string, ECDsa> _keys = new(StringComparer.Ordinal);
    private readonly List<string> _unreadable = [];

    /// <summary>
    /// The files of the trust store that are not keys the host can use, each saying why. They are
    /// skipped rather than failing the load: one bad file must not refuse every plugin the others vouch for.
    /// </summary>
    public IReadOnlyList<string> Unreadable => _unreadable;

    /// <summary>Loads every *.pem public key in <paramref name="directory"/> (none if it does not exist).</summary>
    public static TrustStore Load(string? directory)
    {
        var store = new TrustStore();
        if (directory is not null && Directory.Exists(directory))
        {
            foreach (var file in Directory.GetFiles(directory, "*.pem").Order(StringComparer.Ordinal))
            {
                try
                {
                    store.Add(RegularFile.ReadAllText(file, MaxKeyBytes));
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    store._unreadable.Add(ex.Message);
                }
                catch (Exception ex) when (ex is ArgumentException or CryptographicException)
                {
                    store._unreadable.Add($"'{file}' is not an ECDSA P-256 public key in PEM ({ex.Message}); replace it with the publisher's public key, or remove it.");
                }
            }
        }

        return store;
    }

    public string Add(string publicKeyPem)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(publicKeyPem);
        }
        catch
        {
            key.Dispose();
            throw;
        }

        var id = BundleSignature.KeyIdOf(key);
        _keys[id] = key;
        return id;
    }

    public ECDsa? Find(string keyId) => _keys.GetValueOrDefault(keyId);
}
