using System.Security.Cryptography;

namespace GrpcPlugins.Host.Bundles;

/// <summary>The publisher keys the host trusts: PEM public keys, by key id.</summary>
internal sealed class TrustStore
{
    private readonly Dictionary<string, ECDsa> _keys = new(StringComparer.Ordinal);

    /// <summary>Loads every *.pem public key in <paramref name="directory"/> (none if it does not exist).</summary>
    public static TrustStore Load(string? directory)
    {
        var store = new TrustStore();
        if (directory is not null && Directory.Exists(directory))
        {
            foreach (var file in Directory.GetFiles(directory, "*.pem").Order(StringComparer.Ordinal))
            {
                store.Add(File.ReadAllText(file));
            }
        }

        return store;
    }

    public string Add(string publicKeyPem)
    {
        var key = ECDsa.Create();
        key.ImportFromPem(publicKeyPem);
        var id = BundleSignature.KeyIdOf(key);
        _keys[id] = key;
        return id;
    }

    public ECDsa? Find(string keyId) => _keys.GetValueOrDefault(keyId);
}
