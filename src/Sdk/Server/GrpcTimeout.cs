namespace GrpcPlugins.Sdk.Server;

/// <summary>The grpc-timeout request header: up to 8 digits and a unit (H, M, S, m, u, n).</summary>
internal static class GrpcTimeout
{
    public const string HeaderName = "grpc-timeout";

    /// <summary>Longer than a timer holds (~49 days): such a call has, in effect, no deadline.</summary>
    private static readonly TimeSpan s_longest = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    /// <summary>The timeout the header asks for; null when there is none, it is malformed (ignored, as gRPC's servers do) or longer than a timer holds.</summary>
    public static TimeSpan? Parse(string? value) => ParseUnits(value) is { } timeout && timeout <= s_longest ? timeout : null;

    private static TimeSpan? ParseUnits(string? value)
    {
        if (value is null || value.Length < 2 || value.Length > 9 || !long.TryParse(value.AsSpan(0, value.Length - 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var amount))
        {
            return null;
        }

        return value[^1] switch
        {
            'H' => TimeSpan.FromHours(amount),
            'M' => TimeSpan.FromMinutes(amount),
            'S' => TimeSpan.FromSeconds(amount),
            'm' => TimeSpan.FromMilliseconds(amount),
            'u' => TimeSpan.FromTicks(amount * TimeSpan.TicksPerMicrosecond),
            'n' => TimeSpan.FromTicks(amount / TimeSpan.NanosecondsPerTick),
            _ => null,
        };
    }
}
