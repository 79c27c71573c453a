namespace GrpcPlugins.Supervisor.Connection;

/// <summary>One health probe's result: SERVING, or what the worker answered or what failed instead, for the admin to read.</summary>
internal readonly record struct HealthProbe(bool Serving, string? Problem)
{
    public static HealthProbe Passed => new(true, null);

    public static HealthProbe Failed(string problem) => new(false, problem);
}
