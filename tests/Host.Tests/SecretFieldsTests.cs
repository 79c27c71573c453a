using System.Text.Json;
using System.Text.Json.Nodes;
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

    // A connector's settings as vendors write them: credentials nested, reused through a definition, in lists and maps.
    private static readonly JsonElement s_nested = JsonDocument.Parse("""
        { "type": "object",
          "definitions": { "secret": { "type": "string", "writeOnly": true } },
          "properties": {
            "connection": { "type": "object", "properties": { "host": { "type": "string" }, "password": { "$ref": "#/definitions/secret" } } },
            "replicas": { "type": "array", "items": { "type": "object", "properties": { "host": { "type": "string" }, "token": { "x-secret": true } } } },
            "keys": { "type": "object", "additionalProperties": { "$ref": "#/definitions/secret" } },
            "auth": { "allOf": [ { "type": "object" }, { "properties": { "key": { "type": "string", "x-secret": true } } } ] },
            "name": { "type": "string" }
          } }
        """).RootElement;

    private const string NestedSettings = """
        {"connection":{"host":"db","password":"p4ss"},"replicas":[{"host":"r1","token":"t1"},{"host":"r2","token":"t2"}],"keys":{"a":"k1","b":"k2"},"auth":{"key":"ak"},"name":"n"}
        """;

    [Fact]
    public void SecretsAtAnyDepth_InDefinitionsListsMapsAndBranches_AreFound()
    {
        Assert.Equal(["/auth/key", "/connection/password", "/keys/~e", "/replicas/~e/token"], SecretFields.Of(s_nested).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void NestedSecrets_AreMasked_AndTheMaskWrittenBack_KeepsEachStoredOneInItsPlace()
    {
        var secrets = SecretFields.Of(s_nested);

        var masked = SecretFields.MaskIn(NestedSettings, secrets);
        var edited = JsonNode.Parse(masked)!;
        edited["replicas"]![1]!["host"] = "r2b";
        var written = JsonNode.Parse(SecretFields.Unmask(edited.ToJsonString(), NestedSettings, secrets))!;

        Assert.Equal("""{"connection":{"host":"db","password":"********"},"replicas":[{"host":"r1","token":"********"},{"host":"r2","token":"********"}],"keys":{"a":"********","b":"********"},"auth":{"key":"********"},"name":"n"}""", masked);
        Assert.Equal("p4ss", written["connection"]!["password"]!.GetValue<string>());
        Assert.Equal(["t1", "t2"], written["replicas"]!.AsArray().Select(r => r!["token"]!.GetValue<string>()));
        Assert.Equal("r2b", written["replicas"]![1]!["host"]!.GetValue<string>());
        Assert.Equal(("k1", "k2"), (written["keys"]!["a"]!.GetValue<string>(), written["keys"]!["b"]!.GetValue<string>()));
        Assert.Equal("ak", written["auth"]!["key"]!.GetValue<string>());
    }

    [Fact]
    public void ASchemaReferringToItself_IsWalkedToABoundedDepth_NotForever()
    {
        var schema = JsonDocument.Parse("""
            { "type": "object", "properties": { "left": { "$ref": "#" }, "right": { "$ref": "#" }, "pin": { "writeOnly": true } } }
            """).RootElement;

        var secrets = SecretFields.Of(schema);

        Assert.Contains("/pin", secrets);
        Assert.Contains("/left/right/pin", secrets);
        Assert.InRange(secrets.Count, 3, 10_000);
    }
}
