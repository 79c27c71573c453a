using System.Text.Json.Nodes;
using GrpcPlugins.Host.Settings;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;

namespace GrpcPlugins.Host.Tests;

public sealed class SealedSecretsTests
{
    private static readonly HashSet<string> s_secrets = ["/apiKey", "/pin"];

    [Fact]
    public void SecretFields_AreSealed_TheOthersLeftReadable_AndOpenedBackWhole()
    {
        var secrets = Sealer();

        var sealedJson = secrets.Seal("""{"apiKey":"s3cr3t","pin":1234,"greeting":"hi"}""", s_secrets);
        var opened = JsonNode.Parse(secrets.Open(sealedJson, "p", ""))!;

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

        Assert.Same(plain, secrets.Open(plain, "p", ""));
        Assert.Equal(once, secrets.Seal(once, s_secrets));
        // Nothing left to seal: the settings as written, spacing and all, so a caller can tell nothing changed.
        const string spaced = """{ "greeting": "hi" }""";
        Assert.Same(spaced, secrets.Seal(spaced, s_secrets));
        Assert.Same(once, secrets.Seal(once, s_secrets));
    }

    [Fact]
    public void ASecretSealedByAnotherKeyRing_ReadsAsMissing_LoggedOnceNamingThePluginTheFieldAndTheFix_AndTheRestReads()
    {
        var sealedJson = Sealer().Seal("""{"apiKey":"s3cr3t","greeting":"hi"}""", s_secrets);
        var logger = new FakeLogger<SealedSecrets>();
        var other = Sealer(logger);

        var first = JsonNode.Parse(other.Open(sealedJson, "p", "acme"))!;
        other.Open(sealedJson, "p", "acme");

        Assert.False(first.AsObject().ContainsKey("apiKey"));
        Assert.Equal("hi", first["greeting"]!.GetValue<string>());
        var log = Assert.Single(logger.Collector.GetSnapshot());
        Assert.Equal(LogLevel.Error, log.Level);
        Assert.StartsWith("Plugin p's tenant 'acme' secret setting 'apiKey' cannot be opened: the key ring in /state/keys is not the one that sealed it", log.Message, StringComparison.Ordinal);
        Assert.Contains("set the secret again through the admin API", log.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NestedSecrets_AreSealedWhereverTheyAre_AndOpenedBack_AnUnreadableItemReadingAsNull()
    {
        var paths = new HashSet<string> { "/connection/password", "/replicas/~e/token" };
        // Each secret has a '.', which sealed text (base64url) never holds: a secret found in it is a secret in clear.
        const string settings = """{"connection":{"host":"db","password":"pa.ss"},"replicas":[{"token":"t.one"},{"token":"t.two"}]}""";

        var sealedJson = Sealer().Seal(settings, paths);
        var sealer = Sealer();
        var byThisOne = sealer.Seal(settings, paths);
        var opened = sealer.Open(byThisOne, "p", "");
        var elsewhere = JsonNode.Parse(Sealer().Open(sealedJson, "p", ""))!;

        Assert.DoesNotContain("pa.ss", sealedJson, StringComparison.Ordinal);
        Assert.DoesNotContain("t.one", sealedJson, StringComparison.Ordinal);
        Assert.DoesNotContain("t.two", sealedJson, StringComparison.Ordinal);
        Assert.Equal("db", JsonNode.Parse(sealedJson)!["connection"]!["host"]!.GetValue<string>());
        Assert.Equal(settings, opened);
        Assert.False(elsewhere["connection"]!.AsObject().ContainsKey("password"));
        Assert.Equal([null, null], elsewhere["replicas"]!.AsArray().Select(r => r!["token"]));
    }

    private static SealedSecrets Sealer(ILogger<SealedSecrets>? logger = null) =>
        new(new EphemeralDataProtectionProvider().CreateProtector("test"), "/state/keys", logger ?? NullLogger<SealedSecrets>.Instance);
}
