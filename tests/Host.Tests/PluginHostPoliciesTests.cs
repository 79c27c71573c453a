using GrpcPlugins.Host.Auth;
using GrpcPlugins.Host.Hosting;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace GrpcPlugins.Host.Tests;

public sealed class PluginHostPoliciesTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AnApplicationsOwnRoutesPolicy_Wins_WhetherItIsDefinedBeforeOrAfterAddPluginHost(bool before)
    {
        var services = new ServiceCollection();
        if (before)
        {
            services.AddAuthorizationBuilder().AddPolicy(PluginHostPolicies.Routes, p => p.RequireClaim("tier", "gold"));
        }

        services.AddPluginHost();
        if (!before)
        {
            services.AddAuthorizationBuilder().AddPolicy(PluginHostPolicies.Routes, p => p.RequireClaim("tier", "gold"));
        }

        using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptions<AuthorizationOptions>>().Value;

        var routes = options.GetPolicy(PluginHostPolicies.Routes)!;
        Assert.IsType<Microsoft.AspNetCore.Authorization.Infrastructure.ClaimsAuthorizationRequirement>(Assert.Single(routes.Requirements));
        Assert.Equal([ApiKeyAuthenticationHandler.SchemeName], options.GetPolicy(PluginHostPolicies.Admin)!.AuthenticationSchemes);
    }

    [Fact]
    public void WithoutTheApplicationsPolicies_BothAskForTheAdminKey_AndHoldReadOnlyKeysToReading()
    {
        var services = new ServiceCollection();
        services.AddPluginHost();
        using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptions<AuthorizationOptions>>().Value;

        foreach (var name in new[] { PluginHostPolicies.Admin, PluginHostPolicies.Routes })
        {
            var policy = options.GetPolicy(name)!;
            Assert.Equal([ApiKeyAuthenticationHandler.SchemeName], policy.AuthenticationSchemes);
            Assert.Collection(
                policy.Requirements,
                r => Assert.IsType<Microsoft.AspNetCore.Authorization.Infrastructure.DenyAnonymousAuthorizationRequirement>(r),
                r => Assert.IsType<Microsoft.AspNetCore.Authorization.Infrastructure.AssertionRequirement>(r));
        }
    }
}
