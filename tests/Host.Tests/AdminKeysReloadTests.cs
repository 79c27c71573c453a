using GrpcPlugins.Host.Auth;
using GrpcPlugins.Host.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace GrpcPlugins.Host.Tests;

/// <summary>Admin keys follow the configuration as it reloads, and a reload the start would refuse changes nothing.</summary>
public sealed class AdminKeysReloadTests
{
    [Fact]
    public void AKeyAdded_Rotated_OrBlanked_WorksOrStopsAtTheReload_AndAnInvalidReloadKeepsTheKeysAndSaysWhy()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["PluginHost:AdminApiKeys:alice"] = "alices-first-key" }).Build();
        var logs = new FakeLogCollector();
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddLogging(b => b.AddProvider(new FakeLoggerProvider(logs)))
            .AddSingleton<IValidateOptions<PluginHostOptions>, PluginHostOptionsValidator>()
            .AddSingleton<AdminKeys>();
        services.AddOptions<PluginHostOptions>().BindConfiguration(PluginHostOptions.SectionName);
        using var provider = services.BuildServiceProvider();
        var keys = provider.GetRequiredService<AdminKeys>();
        var atStart = keys.Current.Find("alices-first-key");

        configuration["PluginHost:AdminApiKeys:bob"] = "bobs-own-long-key";
        configuration["PluginHost:AdminApiKeys:alice"] = "alices-second-key";
        configuration.Reload();
        var bob = keys.Current.Find("bobs-own-long-key");
        var aliceOld = keys.Current.Find("alices-first-key");
        var aliceNew = keys.Current.Find("alices-second-key");

        configuration["PluginHost:AdminApiKeys:bob"] = "short";
        configuration.Reload();
        var bobAfterBadReload = keys.Current.Find("bobs-own-long-key");

        configuration["PluginHost:AdminApiKeys:bob"] = string.Empty;
        configuration.Reload();

        Assert.Equal("alice", atStart);
        Assert.Equal("bob", bob);
        Assert.Null(aliceOld);
        Assert.Equal("alice", aliceNew);
        Assert.Equal("bob", bobAfterBadReload);
        Assert.Null(keys.Current.Find("bobs-own-long-key"));
        Assert.Equal(["alice"], keys.Current.Names);
        Assert.Contains(logs.GetSnapshot(), r => r.Level == LogLevel.Error && r.Message.Contains("PluginHost:AdminApiKeys:bob is 5 characters long", StringComparison.Ordinal) && r.Message.Contains("stay as they were", StringComparison.Ordinal));
        Assert.Contains(logs.GetSnapshot(), r => r.Level == LogLevel.Information && r.Message.EndsWith("keys now held by: alice, bob", StringComparison.Ordinal));
    }
}
