using System.Diagnostics.Metrics;
using OpenTelemetry.Metrics;

namespace GrpcPlugins.Host.Calls;

/// <summary>
/// Keeps another host's instruments out of this host's exporter. A meter provider listens to
/// every meter of a name in the process, and two hosts in one process (an application's tests)
/// name theirs alike: without this one host's /metrics showed the other's plugins, and where
/// both had a plugin of one id the last one observed overwrote the other's value.
/// </summary>
internal static class OwnMetersOnly
{
    /// <summary>A view dropping instruments of meters any factory but <paramref name="own"/> made.</summary>
    /// <remarks>
    /// A meter made with <c>new Meter(..)</c> has no scope and is the process's, so it is kept:
    /// only a meter made through a service provider's <see cref="IMeterFactory"/> belongs to one host.
    /// </remarks>
    public static Func<Instrument, MetricStreamConfiguration?> View(IMeterFactory own) =>
        instrument => instrument.Meter.Scope is { } scope && !ReferenceEquals(scope, own) ? MetricStreamConfiguration.Drop : null;
}
