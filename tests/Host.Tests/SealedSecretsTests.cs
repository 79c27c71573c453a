using System.Security.Cryptography;
using System.Text.Json.Nodes;
using GrpcPlugins.Host.Settings;
using Microsoft.AspNetCore.DataProtection;

namespace GrpcPlugins.Host.Tests;

public sealed class SealedSecretsTests
{
    private static readonly HashSet<string> s_secrets = ["apiKey", "pin"];

    [Fact]
    public void SecretFields_AreSealed_TheOthersLeftReadable_AndOpenedBackWhole()
    {
        var secrets = Sealer();

        var sealedJson = secrets.Seal("""{"apiKey":"s3cr3t","pin":1234,"greeting":"hi"}""", s_secrets);
        var opened = JsonNode.Parse(secrets.Open(sealedJson))!;

        Assert.DoesNotContain("s3cr3t", sealedJson, StringComparison.Ordinal);
        Assert.DoesNotContain("1234", sealedJson, StringComparison.Ordinal);
        Assert.StartsWith(SealedSecrets.Marker, JsonNode.Parse(sealedJson)!["apiKey"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("hi", JsonNode.Parse(sealedJson)!["greeting"]!.GetValue<string>());
        Assert.Equal("s3cr3t", opened["apiKey"]!.GetValue<string>());
        Assert.Equal(1234, opened["pin"]!.GetValue<int>());
    }

    [Fact]
    public void SettingsWithNothingSealed_AreReturnedAsTheyAre_AndASealedValueIsNotSealedTwice()
    {
        var secrets = Sealer();
        const string plain = """{"greeting":"hi"}""";
        var once = secrets.Seal("""{"apiKey":"s3cr3t"}""", s_secrets);

        Assert.Same(plain, secrets.Open(plain));
        Assert.Equal(once, secrets.Seal(once, s_secrets));
    }

    [Fact]
    public void ASecretSealedByAnotherKeyRing_IsRefused_NamingTheFieldAndTheFix()
    {
        var sealedJson = Sealer().Seal("""{"apiKey":"s3cr3t"}""", s_secrets);

        var error = Assert.Throws<CryptographicException>(() => Sealer().Open(sealedJson));

        Assert.StartsWith("The secret setting 'apiKey' cannot be opened: the key ring in /state/keys is not the one that sealed it", error.Message, StringComparison.Ordinal);
        Assert.Contains("set the secret again through the admin API", error.Message, StringComparison.Ordinal);
    }

    private static SealedSecrets Sealer() => new(new EphemeralDataProtectionProvider().CreateProtector("test"), "/state/keys");
}
