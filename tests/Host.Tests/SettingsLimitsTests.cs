using GrpcPlugins.Host.Settings;

namespace GrpcPlugins.Host.Tests;

public sealed class SettingsLimitsTests
{
    private static readonly SettingsLimits s_limits = new(MaxDocumentBytes: 100, MaxTenants: 2, MaxTotalBytes: 250);

    [Fact]
    public void ADocumentOverItsLimit_IsTooLarge_WhateverTheRest()
    {
        var problem = s_limits.Check(101, new SettingsUsage(0, 0), newTenant: false);

        Assert.True(problem!.TooLarge);
        Assert.Contains("101 bytes, over this host's limit of 100", problem.Message, StringComparison.Ordinal);
        Assert.Null(s_limits.Check(100, new SettingsUsage(0, 0), newTenant: false));
    }

    [Fact]
    public void ANewTenantBeyondTheLimit_IsRefused_ButAnExistingOneMayBeRewritten()
    {
        var full = new SettingsUsage(TenantScopes: 2, Bytes: 20);

        var problem = s_limits.Check(10, full, newTenant: true);

        Assert.False(problem!.TooLarge);
        Assert.Contains("settings for 2 tenants", problem.Message, StringComparison.Ordinal);
        Assert.Null(s_limits.Check(10, full, newTenant: false));
    }

    [Fact]
    public void TheTotal_CountsTheOtherScopesAndTheNewDocument()
    {
        Assert.Null(s_limits.Check(50, new SettingsUsage(1, 200), newTenant: false));
        Assert.Contains("would take 251 bytes", s_limits.Check(51, new SettingsUsage(1, 200), newTenant: false)!.Message, StringComparison.Ordinal);
    }
}
