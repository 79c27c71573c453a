using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace GrpcPlugins.Host.Bundles;

/// <summary>
/// A publisher's ECDSA P-256 signature over a bundle manifest's bytes, with the
/// id of the key that made it (the sha256 of its public key).
/// </summary>
internal sealed record BundleSignature(
    [property: JsonPropertyName("keyId")] string KeyId,
    [property: JsonPropertyName("algorithm")] string Algorithm,
    [property: JsonPropertyName("signature")] string Signature)
{
    public const string EcdsaP256Sha256 = "ECDSA-P256-SHA256";

    public static BundleSignature Sign(byte[] manifest, ECDsa key) =>
        new(KeyIdOf(key), EcdsaP256Sha256, Convert.ToBase64String(key.SignData(manifest, HashAlgorithmName.SHA256)));

    /// <summary>The key id: sha256 of the public key's SubjectPublicKeyInfo.</summary>
    public static string KeyIdOf(ECDsa key) => Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));

    public byte[] ToBytes() => JsonSerializer.SerializeToUtf8Bytes(this);

    public static BundleSignature? Parse(byte[] bytes) => JsonSerializer.Deserialize<BundleSignature>(bytes);
}
