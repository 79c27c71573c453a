using GrpcPlugins.Host.Audit;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace GrpcPlugins.Host.Auth;

/// <summary>What a presented admin key came to: its holder (and whether it may only read), or how long its address is still locked out.</summary>
internal readonly record struct AdminKeyVerdict(string? Holder, TimeSpan LockedOutFor, bool ReadOnly = false);

/// <summary>
/// The one check of a presented admin key, for the API's scheme and the page's sign-in alike:
/// the address's lockout first, then the keys in force; a lockout is logged and kept in the audit trail.
/// </summary>
internal sealed partial class AdminKeyVerifier(AdminKeys keys, AdminKeyGuard guard, AuditTrail audit, ILogger<AdminKeyVerifier> logger)
{
    // A ValueTask: asked on every non-anonymous route call, and it completes at once unless it locks an address out.
    public async ValueTask<AdminKeyVerdict> VerifyAsync(HttpContext context, string presented)
    {
        var remote = context.Connection.RemoteIpAddress;
        if (guard.LockedOutFor(remote) is { Ticks: > 0 } locked)
        {
            return new AdminKeyVerdict(null, locked);
        }

        var current = keys.Current;
        if (current.Find(presented) is { } holder)
        {
            guard.Succeeded(remote);
            return new AdminKeyVerdict(holder, TimeSpan.Zero, current.IsReadOnly(holder));
        }

        if (!guard.Failed(remote))
        {
            return new AdminKeyVerdict(null, TimeSpan.Zero);
        }

        var lockout = guard.LockedOutFor(remote);
        var address = AdminKeyGuard.Key(remote);
        Log.LockedOut(logger, address, lockout);
        await audit.RecordAsync(AdminActor.Anonymous, remote?.ToString() ?? string.Empty, "admin.lockout", string.Empty, string.Empty, StatusCodes.Status429TooManyRequests,
            $"too many wrong admin keys from {address}; every key from it is refused for {lockout.TotalSeconds:0} s").ConfigureAwait(false);
        return new AdminKeyVerdict(null, lockout);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1072, EventName = "AdminKeyLockout", Level = LogLevel.Warning, Message = "Too many wrong admin keys from {Address}: every key from it is refused for {Lockout}")]
        public static partial void LockedOut(ILogger logger, string address, TimeSpan lockout);
    }
}
