using GrpcPlugins.Host.Auth;
using GrpcPlugins.Host.Hosting;
using GrpcPlugins.Host.Replicas;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace GrpcPlugins.Host.Admin;

/// <summary>
/// GET /admin/api/store: the host's store and, with replicas, whether this replica hears the
/// others' changes, so the admin page can say so where an admin looks (a deaf replica serves
/// with what it last heard).
/// </summary>
internal static class StoreApi
{
    public static void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGroup("/admin/api").RequireAuthorization(PluginHostPolicies.Admin)
            .MapGet("/store", (IOptions<PluginHostOptions> options, ReplicaLink link, IServiceProvider services) =>
                Results.Ok(options.Value.Store.IsShared
                    ? new StoreView("postgresql", services.GetRequiredService<PostgresPluginStore>().Origin, options.Value.Store.ReplicaName, link.Listening, link.LostAt, link.Losses, link.Listening ? null : link.Detail, services.GetRequiredService<UnfollowedInstalls>().Current)
                    : new StoreView("sqlite", null, null, null, null, 0, null, [])));
    }
}
