using System.Net;
using System.Net.Sockets;
using GrpcPlugins.Host.Registry;
using GrpcPlugins.Host.Settings;

namespace GrpcPlugins.Host.Tests;

/// <summary>
/// A plugin's settings schema is third-party input the host loads and runs: it must not make
/// the host send requests, nor hold a host thread on a pattern that backtracks.
/// </summary>
public sealed class SettingsSchemaSafetyTests
{
    // Exponential on the backtracking engine: 40 'a's and a '!' would take longer than the universe.
    private const string Backtracking = "^(a+)+$";
    private static readonly string Attack = new string('a', 40) + "!";

    // The test fails rather than hangs when the host's validation does.
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ABacktrackingPattern_IsMatchedInLinearTime_AndTheValueReportedAsAMismatch()
    {
        var schema = """{"type":"object","properties":{"code":{"type":"string","pattern":"PATTERN"}}}""".Replace("PATTERN", Backtracking, StringComparison.Ordinal);

        var refused = await new SettingsValidator().ValidateAsync(schema, $$"""{"code":"{{Attack}}"}""").WaitAsync(Guard);
        var accepted = await new SettingsValidator().ValidateAsync(schema, """{"code":"aaaa"}""").WaitAsync(Guard);

        Assert.Equal([("/code", "PatternMismatch: does not match the schema")], refused);
        Assert.Empty(accepted);
    }

    [Fact]
    public async Task APatternOnlyTheBacktrackingEngineRuns_IsCutOffAtItsTimeout_WithTheReason()
    {
        // A backreference keeps the linear engine out.
        var schema = """{"type":"object","properties":{"code":{"type":"string","pattern":"^(a+)+\\1$"}}}""";

        var refused = await new SettingsValidator().ValidateAsync(schema, $$"""{"code":"{{Attack}}"}""").WaitAsync(Guard);
        var accepted = await new SettingsValidator().ValidateAsync(schema, """{"code":"aaaa"}""").WaitAsync(Guard);

        var (path, message) = Assert.Single(refused);
        Assert.Equal("/code", path);
        Assert.Contains("pattern '^(a+)+\\1$' took longer than 200 ms on this value, so it was not accepted", message, StringComparison.Ordinal);
        Assert.Empty(accepted);
    }

    [Fact]
    public async Task PatternProperties_AreMatchedInBoundedTime_AndStillTakeMatchingNamesOutOfTheAdditionalOnes()
    {
        var schema = """
            {"type":"object","properties":{"name":{"type":"string"}},
             "patternProperties":{"^x-":{"type":"integer"},"PATTERN":{"type":"boolean"}},
             "additionalProperties":false}
            """.Replace("PATTERN", Backtracking, StringComparison.Ordinal);
        var validator = new SettingsValidator();

        var valid = await validator.ValidateAsync(schema, """{"name":"n","x-a":1,"aaa":true}""").WaitAsync(Guard);
        var wrongType = await validator.ValidateAsync(schema, """{"x-a":"one"}""").WaitAsync(Guard);
        var unknown = await validator.ValidateAsync(schema, $$"""{"{{Attack}}":true}""").WaitAsync(Guard);

        Assert.Empty(valid);
        Assert.Equal([("/x-a", "AdditionalPropertiesNotValid: does not match the schema")], wrongType);
        Assert.Equal([($"/{Attack}", $"'{Attack}' is not a known setting")], unknown);
    }

    [Fact]
    public async Task APatternReachedThroughALocalReference_OrInsideAnyOfAndItems_IsStillChecked()
    {
        var schema = """
            {"type":"object","definitions":{"code":{"type":"string","pattern":"^[A-Z]{3}$"}},
             "properties":{"one":{"$ref":"#/definitions/code"},
                           "many":{"type":"array","items":{"anyOf":[{"$ref":"#/definitions/code"},{"type":"integer"}]}}}}
            """;
        var validator = new SettingsValidator();

        var valid = await validator.ValidateAsync(schema, """{"one":"ABC","many":["XYZ",4]}""");
        var invalid = await validator.ValidateAsync(schema, """{"one":"abc","many":["xyz"]}""");

        Assert.Empty(valid);
        Assert.Equal(["/many[0]", "/one"], invalid.Select(e => e.Path).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void AManifestWhoseSchemaRefersOutsideItself_IsRefused_WithTheFix_AndTheHostSendsNoRequest()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var url = $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/schema.json";

        var manifest = ManifestReader.Parse("""
            { "id": "demo", "version": "1.0.0", "command": "./run",
              "settingsSchema": {"type":"object","properties":{"a":{"$ref":"URL"},"b":{"$ref":"file:///etc/passwd"},"c":{"$ref":"#/definitions/c"}},
                                 "definitions":{"c":{"type":"string"}}} }
            """.Replace("URL", url, StringComparison.Ordinal), "/plugins/demo", out var errors);

        Assert.Null(manifest);
        Assert.Equal(
            [
                $"$.settingsSchema.properties.a.$ref: '{url}' points outside the schema, and the host resolves only references within it (\"#\" or \"#/definitions/...\"); copy what it points to into the schema's \"definitions\" and refer to it there.",
                "$.settingsSchema.properties.b.$ref: 'file:///etc/passwd' points outside the schema, and the host resolves only references within it (\"#\" or \"#/definitions/...\"); copy what it points to into the schema's \"definitions\" and refer to it there.",
            ],
            errors);
        Assert.False(listener.Pending(), "the host sent a request to the schema's reference");
    }

    [Fact]
    public async Task ASchemaThatReachesTheValidatorWithAnOutsideReference_IsRefused_NotFetched()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var schema = """{"properties":{"a":{"$ref":"URL"}}}""".Replace("URL", $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/s.json", StringComparison.Ordinal);

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => new SettingsValidator().ValidateAsync(schema, """{"a":1}"""));

        Assert.Contains("points outside the schema", refused.Message, StringComparison.Ordinal);
        Assert.False(listener.Pending(), "the host sent a request to the schema's reference");
    }

    [Fact]
    public void PatternsThatDoNotCompile_AndSchemasNJsonSchemaCannotLoad_AreRefusedAtTheirPath()
    {
        ManifestReader.Parse("""
            { "id": "demo", "version": "1.0.0", "command": "./run",
              "settingsSchema": {"properties":{"a":{"type":"string","pattern":"(["}},"patternProperties":{"*x":{}}} }
            """, "/plugins/demo", out var badPatterns);
        var unresolved = SettingsValidator.Problems("""{"properties":{"a":{"$ref":"#/definitions/missing"}}}""", "$.settingsSchema");
        var valid = SettingsValidator.Problems(Fixtures.Schema, "$.settingsSchema");

        Assert.Collection(badPatterns,
            e => Assert.StartsWith("$.settingsSchema.properties.a.pattern: '([' is not a regular expression the host can run: ", e, StringComparison.Ordinal),
            e => Assert.StartsWith("$.settingsSchema.patternProperties['*x']: '*x' is not a regular expression the host can run: ", e, StringComparison.Ordinal));
        Assert.StartsWith("$.settingsSchema: not a JSON Schema the host can load: ", Assert.Single(unresolved), StringComparison.Ordinal);
        Assert.Empty(valid);
    }

    private static class Fixtures
    {
        public const string Schema = """{"type":"object","properties":{"greeting":{"type":"string","maxLength":20,"pattern":"^[a-z]+$"}},"additionalProperties":false}""";
    }
}
