
namespace GrpcPlugins.Benchmarks;

/// <summary>Sizes as the table prints them.</summary>
internal static class Units
{
    public static string MiB(long bytes) => $"{bytes / (1024.0 * 1024):0.0}";

    public static string Size(int size) => size >= 1024 ? $"{size / 1024} KiB" : $"{size} B";
}
