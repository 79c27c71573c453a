using System.Diagnostics.Metrics;
using GrpcPlugins.Host.Calls;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;

namespace GrpcPlugins.Host.Tests;

public sealed class OwnMetersOnlyTests
{
    [Fact]
    public void AnotherProvidersMeter_IsDropped_WhileItsOwnAndTheProcesssMetersAreKept()
    {
        using var own = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var another = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var ownFactory = own.GetRequiredService<IMeterFactory>();
        var view = OwnMetersOnly.View(ownFactory);
        using var global = new Meter(PluginMetrics.MeterName);

        var ownCounter = ownFactory.Create(PluginMetrics.MeterName).CreateCounter<long>("c");
        var anotherCounter = another.GetRequiredService<IMeterFactory>().Create(PluginMetrics.MeterName).CreateCounter<long>("c");

        Assert.Null(view(ownCounter));
        Assert.Null(view(global.CreateCounter<long>("c")));
        Assert.Same(MetricStreamConfiguration.Drop, view(anotherCounter));
    }
}
