using System.Text.Json;
using GrpcPlugins.Host.Settings;

namespace GrpcPlugins.Host.Tests;

public sealed class SecretFieldsTests
{
    private static readonly JsonElement s_schema = JsonDocument.Parse("""
        { "type": "object", "properties": { "apiKey": { "type": "string", "writeOnly": true }, "token": { "x-secret": true }, "name": { "type": "string" } } }
        """).RootElement;

    [Fact]
    public void SecretFields_AreMasked_OthersShown()
    {
        var secrets = SecretFields.Of(s_schema);

        var masked = SecretFields.MaskIn("""{"apiKey":"s3cr3t","token":"t","name":"n"}""", secrets);

        Assert.DoesNotContain("s3cr3t", masked, StringComparison.Ordinal);
        Assert.Equal("""{"apiKey":"********","token":"********","name":"n"}""", masked);
    }

    [Fact]
    public void WritingTheMaskBack_KeepsTheStoredSecret()
    {
        var json = SecretFields.Unmask("""{"apiKey":"********","name":"new"}""", """{"apiKey":"s3cr3t","name":"old"}""", SecretFields.Of(s_schema));

        Assert.Equal("""{"apiKey":"s3cr3t","name":"new"}""", json);
    }
}
