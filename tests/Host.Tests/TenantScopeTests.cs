using GrpcPlugins.Host.Hooks.Tenancy;

namespace GrpcPlugins.Host.Tests;

/// <summary>Which tenants a scope takes, and how the admin API's JSON becomes one: pure logic; a real host's test sets one through the API.</summary>
public sealed class TenantScopeTests
{
    [Theory]
    [InlineData("{}", "acme", true)]
    [InlineData("{}", "", true)]
    [InlineData("""{"only": ["acme", "globex"]}""", "globex", true)]
    [InlineData("""{"only": ["acme"]}""", "Acme", false)]
    [InlineData("""{"only": ["acme"]}""", "", false)]
    [InlineData("""{"only": []}""", "acme", false)]
    [InlineData("""{"except": ["initech"]}""", "initech", false)]
    [InlineData("""{"except": ["initech"]}""", "", true)]
    public void AScope_TakesTheTenantsItSays_AndACallWithoutATenantOnlyWhenItNamesNone(string json, string tenant, bool taken)
    {
        var scope = TenantScopeJson.Read(json, []);

        Assert.NotNull(scope);
        Assert.Equal(taken, scope.Takes(tenant));
    }

    [Theory]
    [InlineData("""{"only": ["b", "a", "b"]}""", "only a, b")]
    [InlineData("""{"except": ["initech"]}""", "all but initech")]
    [InlineData("""{"only": []}""", "no tenant")]
    [InlineData("{}", "every tenant")]
    public void AScope_DescribesItselfInOneLine_ItsTenantsSortedOnce(string json, string described) =>
        Assert.Equal(described, TenantScopeJson.Read(json, [])!.Describe());

    [Theory]
    [InlineData("""{"only": ["b", "a"]}""")]
    [InlineData("""{"except": ["x"]}""")]
    [InlineData("{}")]
    public void AScope_WrittenAndReadBack_IsTheSame(string json)
    {
        var scope = TenantScopeJson.Read(json, [])!;

        Assert.Equal(scope, TenantScopeJson.Read(TenantScopeJson.Write(scope).ToJsonString(), []));
    }

    [Theory]
    [InlineData("not json", "$: not JSON")]
    [InlineData("[]", "$: write an object")]
    [InlineData("""{"only": ["a"], "except": ["b"]}""", "$: write 'only' or 'except', not both")]
    [InlineData("""{"tenants": ["a"]}""", "$.tenants: not a scope field")]
    [InlineData("""{"only": "acme"}""", "$.only: write a list of tenant ids")]
    [InlineData("""{"only": ["acme", 3]}""", "$.only[1]: write a tenant id as a string")]
    [InlineData("""{"except": [""]}""", "$.except[0]: is empty")]
    [InlineData("""{"only": ["a\u0001b"]}""", "$.only[0]: the tenant id holds a control character")]
    public void ABadScope_IsRefused_SayingWhereAndWhat(string json, string expected)
    {
        var errors = new List<string>();

        Assert.Null(TenantScopeJson.Read(json, errors));
        Assert.Contains(errors, e => e.StartsWith(expected, StringComparison.Ordinal));
    }
}
