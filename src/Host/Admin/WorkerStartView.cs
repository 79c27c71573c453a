namespace GrpcPlugins.Host.Admin;

/// <summary>Where the running worker's start went, in milliseconds from its spawn: the admin's first look at a slow plugin.</summary>
internal sealed record WorkerStartView(double HandshakeMs, double HealthyMs, double DescribedMs, double ReadyMs);
