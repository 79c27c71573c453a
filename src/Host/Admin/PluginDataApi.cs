using System.Globalization;
using GrpcPlugins.Host.Audit;
using GrpcPlugins.Host.Auth;
using GrpcPlugins.Host.Hosting;
using GrpcPlugins.Host.Registry;
using GrpcPlugins.Supervisor.Supervision;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace GrpcPlugins.Host.Admin;

/// <summary>
/// A plugin's data directory, behind the admin policy: GET /admin/api/plugins/{id}/data says
/// what holds its bytes, and DELETE empties it while no worker of the plugin runs (halted over
/// its data limit, crash-looping, exited or disabled), so an admin can bring back a plugin whose
/// cache ran away without a shell on the host.
/// </summary>
internal static class PluginDataApi
{
    /// <summary>Entries listed at most; the rest are summed in <c>otherBytes</c>.</summary>
    private const int EntriesListed = 50;

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/admin/api/plugins/{id}/data", (string id, PluginCatalog catalog, IOptions<PluginHostOptions> options) =>
        {
            if (catalog.Find(id) is not { } entry)
            {
                return AdminApi.UnknownPlugin(id);
            }

            var directory = PluginDataDirectory.PathFor(options.Value, id);
            var entries = Supervisor.Limits.DirectoryUsage.ByEntry(directory);
            var bytes = entries.Sum(e => e.Bytes);
            return Results.Ok(new
            {
                pluginId = id,
                directory,
                bytes,
                limitBytes = entry.Supervisor?.Snapshot.DataLimitBytes ?? 0,
                entries = entries.Take(EntriesListed).Select(e => new { name = e.Name, bytes = e.Bytes }),
                otherBytes = entries.Skip(EntriesListed).Sum(e => e.Bytes),
            });
        })
        .RequireAuthorization(PluginHostPolicies.Admin);

        endpoints.MapDelete("/admin/api/plugins/{id}/data", (string id, HttpContext context, PluginCatalog catalog, LifecycleEvents events, IOptions<PluginHostOptions> options) =>
        {
            if (catalog.Find(id) is not { } entry)
            {
                return AdminApi.UnknownPlugin(id);
            }

            if (entry.Supervisor is { State: not (WorkerState.Stopped or WorkerState.Halted or WorkerState.CrashLooping or WorkerState.Exited) } running)
            {
                return Results.Problem(
                    title: "Plugin is running",
                    detail: $"'{id}' is {running.State}; its data directory is emptied only while no worker of it runs, since it may be writing there. Disable it (POST /admin/api/plugins/{id}/disable), empty it, then enable it.",
                    statusCode: 409);
            }

            var directory = PluginDataDirectory.PathFor(options.Value, id);
            long freed;
            try
            {
                freed = PluginDataDirectory.Empty(options.Value, id);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                entry.Supervisor?.MeasureData();
                return Results.Problem(title: "Data directory not emptied", detail: $"Emptying {directory} stopped: {ex.Message} What was deleted before is gone; fix the entry named (its permissions, a mount) and ask again.", statusCode: 500);
            }

            entry.Supervisor?.MeasureData();
            var mib = (freed / 1048576.0).ToString("0.#", CultureInfo.InvariantCulture);
            AuditNote.Of(context).Detail = $"emptied {directory}: {mib} MiB freed";
            events.Record(id, "data-emptied", $"{mib} MiB freed by an admin");
            return Results.Ok(new DataEmptied(directory, freed));
        })
        .RequireAuthorization(PluginHostPolicies.Admin)
        .Audited("plugin.data.delete");
    }

    /// <summary>The answer: the directory emptied and the bytes it held.</summary>
    internal sealed record DataEmptied(string Directory, long FreedBytes);
}
