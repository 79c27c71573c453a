using GrpcPlugins.Host.Auth;
using GrpcPlugins.Host.Hosting;

namespace GrpcPlugins.Host.Tests;

/// <summary>The admin keys in force: who holds a presented key, and what the configuration gets wrong.</summary>
public sealed class AdminKeySetTests
{
    private static PluginHostOptions Options(string? adminKey, params (string Name, string Key)[] keys) => new()
    {
        AdminApiKey = adminKey,
        AdminApiKeys = keys.ToDictionary(k => k.Name, k => k.Key, StringComparer.Ordinal),
    };

    [Fact]
    public void APresentedKey_IsFoundUnderItsHoldersName_AndAnyOtherIsNot()
    {
        var keys = AdminKeySet.From(Options("the-admins-key-1", ("alice", "alices-long-key-2"), ("ci-deploy", "ci-deploy-key-3")));

        Assert.Equal("admin", keys.Find("the-admins-key-1"));
        Assert.Equal("alice", keys.Find("alices-long-key-2"));
        Assert.Equal("ci-deploy", keys.Find("ci-deploy-key-3"));
        Assert.Null(keys.Find("alices-long-key-"));
        Assert.Null(keys.Find("alices-long-key-22"));
        Assert.Null(keys.Find(string.Empty));
        Assert.Null(keys.Find(null));
        Assert.Equal(["admin", "alice", "ci-deploy"], keys.Names);
    }

    [Fact]
    public void AReadOnlyHolder_IsSaidSo_AndAConfigurationThatOnlyChangesWhoIsReadOnly_IsAChange()
    {
        var options = Options("the-admins-key-1", ("grafana", "grafanas-long-key"));
        var before = AdminKeySet.From(options);
        options.ReadOnlyAdmins.Add("grafana");
        var after = AdminKeySet.From(options);

        Assert.False(before.IsReadOnly("grafana"));
        Assert.True(after.IsReadOnly("grafana"));
        Assert.False(after.IsReadOnly("admin"));
        Assert.False(after.SameAs(before));
        Assert.True(after.SameAs(AdminKeySet.From(options)));
    }

    [Theory]
    [InlineData("GET", false, true)]
    [InlineData("HEAD", false, true)]
    [InlineData("POST", false, false)]
    [InlineData("DELETE", false, false)]
    [InlineData("POST", true, true)]
    public void AReadOnlyKey_MakesSafeRequestsOnly_AndAFullOneAnything(string method, bool full, bool allowed)
    {
        var claims = new List<System.Security.Claims.Claim> { new(System.Security.Claims.ClaimTypes.Name, "someone") };
        if (!full)
        {
            claims.Add(new(AdminAccess.ClaimType, AdminAccess.ReadOnly));
        }

        var user = new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity(claims, "test"));
        var request = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        request.Request.Method = method;
        var context = new Microsoft.AspNetCore.Authorization.AuthorizationHandlerContext([], user, request);

        Assert.Equal(allowed, AdminAccess.Allows(context));
    }

    [Fact]
    public void NoKeys_AndABlankedKey_LetNobodyIn()
    {
        var none = AdminKeySet.From(Options(null));
        var blanked = AdminKeySet.From(Options(string.Empty, ("bob", string.Empty)));

        Assert.True(none.IsEmpty);
        Assert.True(blanked.IsEmpty);
        Assert.Null(blanked.Find(string.Empty));
        Assert.Empty(AdminKeySet.Problems(Options(string.Empty, ("bob", string.Empty))));
    }

    [Fact]
    public void ShortKeys_BadNames_SharedKeys_AndAdminNamedTwice_AreRefused_WithoutQuotingAKey()
    {
        var problems = AdminKeySet.Problems(Options("short-key", ("admin", "another-long-key"), ("al ice", "alices-long-key"), ("bob", "alices-long-key"))).ToList();

        Assert.Contains("PluginHost:AdminApiKey is 9 characters long; use at least 12 (a long random one, such as the output of 'openssl rand -base64 32').", problems);
        Assert.Contains(problems, p => p.StartsWith("PluginHost:AdminApiKeys:al ice: a key holder's name takes 1 to 64 letters", StringComparison.Ordinal));
        Assert.Contains("PluginHost:AdminApiKey and PluginHost:AdminApiKeys:admin both name a key for 'admin'; keep one of them.", problems);
        Assert.Contains(problems, p => p.StartsWith("PluginHost:AdminApiKeys gives 'al ice' and 'bob' the same key", StringComparison.Ordinal));
        Assert.DoesNotContain(problems, p => p.Contains("alices-long-key", StringComparison.Ordinal) || p.Contains("short-key", StringComparison.Ordinal));
        Assert.False(new PluginHostOptionsValidator().Validate(null, Options("short-key")).Succeeded);
        Assert.True(new PluginHostOptionsValidator().Validate(null, Options("long-enough-key", ("alice", "alices-long-key"))).Succeeded);
    }

    [Fact]
    public void TwoSets_AreTheSame_OnlyWithTheSameHoldersAndKeys()
    {
        var one = AdminKeySet.From(Options("the-admins-key-1", ("alice", "alices-long-key-2")));

        Assert.True(one.SameAs(AdminKeySet.From(Options("the-admins-key-1", ("alice", "alices-long-key-2")))));
        Assert.False(one.SameAs(AdminKeySet.From(Options("the-admins-key-1", ("alice", "alices-new-key-22")))));
        Assert.False(one.SameAs(AdminKeySet.From(Options("the-admins-key-1", ("alicia", "alices-long-key-2")))));
        Assert.False(one.SameAs(AdminKeySet.From(Options("the-admins-key-1"))));
    }
}
