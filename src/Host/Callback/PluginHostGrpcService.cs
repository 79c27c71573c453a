using Grpc.Core;
using GrpcPlugins.Host.Registry;
using GrpcPlugins.Host.Routes;
using GrpcPlugins.Host.Settings;
using GrpcPlugins.Protocol;
using GrpcPlugins.Protocol.V1;
using GrpcPlugins.Supervisor.Workers;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Logging;

namespace GrpcPlugins.Host.Callback;

/// <summary>
/// The PluginHost service workers call. The caller is whoever holds the token
/// it presents; every call is scoped to that plugin and gated by its declared permissions.
/// </summary>
internal sealed partial class PluginHostGrpcService(TokenRegistry tokens, PluginCatalog catalog, SettingsService settings, CallerTurns turns, SettingsWritePace pace, PulledBodies bodies, LifecycleEvents events, ILogger<PluginHostGrpcService> logger) : PluginHost.PluginHostBase
{
    private const string RetryPushbackTrailer = "grpc-retry-pushback-ms";

    public override async Task<GetSettingsResponse> GetSettings(GetSettingsRequest request, ServerCallContext context)
    {
        var caller = Authenticate(context);
        using var turn = await turns.EnterAsync(caller.Id, context.CancellationToken).ConfigureAwait(false);
        var stored = await settings.GetAsync(caller.Id, request.TenantId, maskSecrets: false, context.CancellationToken).ConfigureAwait(false);
        return new GetSettingsResponse { SettingsJson = stored?.Json ?? "{}", Revision = stored?.Revision ?? 0 };
    }

    public override async Task<PutSettingsResponse> PutSettings(PutSettingsRequest request, ServerCallContext context)
    {
        var caller = Authenticate(context);
        if (!caller.Permissions.Contains("settings.write"))
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"plugin '{caller.Id}' lacks the permission 'settings.write'; declare it in its plugin.json 'permissions'."));
        }

        if (TenantId.Problem(request.TenantId) is { } badTenant)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, badTenant));
        }

        if (pace.Refusal(caller.Id) is { } refusal)
        {
            // gRPC's own pushback trailer (its retry design, A6), so a client in any language can wait
            // the right time without reading the message; Grpc.Net.Client's retry policies honour it.
            throw Exhausted(refusal.Message, refusal.RetryAfterMs.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        using var turn = await turns.EnterAsync(caller.Id, context.CancellationToken).ConfigureAwait(false);
        var result = await settings.PutAsync(caller.Id, request.TenantId, request.SettingsJson, pushToPlugin: false, expectedRevision: null, "the plugin", context.CancellationToken).ConfigureAwait(false);
        return result switch
        {
            SettingsWriteResult.Committed committed => new PutSettingsResponse { Revision = committed.Revision },
            // Too large stays too large: a negative pushback tells gRPC's retry (the Sdk's) not to try again.
            SettingsWriteResult.OverLimit over => throw Exhausted("nothing was saved: " + over.Problem.Message, "-1"),
            SettingsWriteResult.Invalid invalid => throw new RpcException(new Status(StatusCode.InvalidArgument, "settings do not match the schema: " + string.Join("; ", invalid.Errors.Select(e => $"{e.Path}: {e.Message}")))),
            _ => throw new RpcException(new Status(StatusCode.FailedPrecondition, $"settings of plugin '{caller.Id}' cannot be written now")),
        };
    }

    private static RpcException Exhausted(string message, string pushbackMs) =>
        new(new Status(StatusCode.ResourceExhausted, message), new Metadata { { RetryPushbackTrailer, pushbackMs } });

    public override async Task ReadHttpBody(ReadHttpBodyRequest request, IServerStreamWriter<HttpBodyChunk> responseStream, ServerCallContext context)
    {
        var caller = Authenticate(context);
        if (bodies.Find(request.BodyId, caller.Id) is not { } body)
        {
            throw new RpcException(new Status(StatusCode.NotFound, $"no request body '{request.BodyId}' is waiting for plugin '{caller.Id}': a body can be read only while the route call whose head named it lasts"));
        }

        if (body.Claim() is { } refusal)
        {
            throw new RpcException(refusal);
        }

        await body.PumpAsync(responseStream, context.CancellationToken).ConfigureAwait(false);
    }

    private PluginManifest Authenticate(ServerCallContext context)
    {
        var token = context.RequestHeaders.GetValue(HandshakeEnvironment.TokenMetadataKey);
        if (tokens.Find(token) is not { } holder || catalog.Find(holder.PluginId)?.Manifest is not { } manifest)
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, $"missing or unknown '{HandshakeEnvironment.TokenMetadataKey}': only workers this host spawned or attached to may call it"));
        }

        // A spawned worker's token is good only from its process group: another plugin, as the
        // same user, can read it from the worker's environment.
        if (holder.ProcessGroup > 0 && PeerProcessGroup.Remembered(context.GetHttpContext().Features.Get<IConnectionItemsFeature>()?.Items) is var caller && caller != holder.ProcessGroup)
        {
            var from = caller is { } group ? catalog.Entries.FirstOrDefault(e => e.Supervisor?.Snapshot.Pid == group)?.Id : null;
            Log.TokenFromElsewhere(logger, holder.PluginId, holder.ProcessGroup, caller?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unknown", from ?? "none");
            // Shown where an admin looks: on the plugin whose token it was, and on the one that used it.
            events.Record(holder.PluginId, "token-used-elsewhere", $"its worker's token came from {(from is null ? $"process group {caller}" : $"plugin '{from}'")}; refused");
            if (from is not null)
            {
                events.Record(from, "used-another-token", $"called the host with plugin '{holder.PluginId}''s token; refused: treat this plugin as hostile");
            }

            throw new RpcException(new Status(StatusCode.Unauthenticated, $"the token was given to the worker of plugin '{holder.PluginId}' (process group {holder.ProcessGroup}), and this call comes from process group {caller?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unknown"}: a token is good only from the worker it was given to and the processes it starts in its group"));
        }

        return manifest;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2009, EventName = "TokenFromElsewhere", Level = LogLevel.Warning, Message = "A call to the PluginHost service carried the token of plugin {PluginId}'s worker (process group {Group}) from process group {Caller} (plugin: {CallerPlugin}); it was refused. Another plugin read that worker's environment: treat the calling plugin as hostile")]
        public static partial void TokenFromElsewhere(ILogger logger, string pluginId, int group, string caller, string callerPlugin);
    }
}
