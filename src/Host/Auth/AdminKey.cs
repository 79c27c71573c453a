using System.Security.Cryptography;
using System.Text;

namespace GrpcPlugins.Host.Auth;

/// <summary>The one comparison of a presented admin key with the configured one: constant time, and never a match when none is configured.</summary>
internal static class AdminKey
{
    public static bool Matches(string? configured, string? presented) =>
        !string.IsNullOrEmpty(configured) && presented is not null &&
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(configured));
}
