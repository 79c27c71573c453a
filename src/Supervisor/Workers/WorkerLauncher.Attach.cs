using Grpc.Core;
using Grpc.Health.V1;
using GrpcPlugins.Protocol.V1;
using GrpcPlugins.Supervisor.Attach;
using GrpcPlugins.Supervisor.Connection;
using GrpcPlugins.Supervisor.Processes;
using Microsoft.Extensions.Logging;

namespace GrpcPlugins.Supervisor.Workers;

/// <summary>
/// Attaching to a worker that runs elsewhere: no spawn and no handshake line; the host dials
/// it over mutual TLS, probes until it serves, and asks Describe, all within the start timeout.
/// </summary>
internal sealed partial class WorkerLauncher
{
    private static readonly TimeSpan s_attachProbeInterval = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan s_attachProbeTimeout = TimeSpan.FromSeconds(2);

    private async Task<Worker> AttachAsync(WorkerSpec spec, Uri address, CancellationToken cancellationToken)
    {
        var logger = loggerFactory.CreateLogger("GrpcPlugins.Supervisor.WorkerLauncher");
        if (Settings.Attach is not { } credentials)
        {
            throw new WorkerStartException(new StartFailure(StartFailureKind.Unreachable,
                $"plugin '{spec.PluginId}' is attached at {address}, but the host has no TLS credentials for attached workers. Set PluginHost:Attach:CertificatePath, KeyPath and TrustedCaPath (docs/architecture.md, \"Attached workers\").", null, []));
        }

        var link = new AttachedLink(time);
        // The way back: a token for this attach alone, handed over in Describe on the verified
        // connection (the spawn's environment, which carries a spawned worker's, does not reach it).
        var callback = Settings.AttachCallback is { } back ? new HostCallback { Address = back.ToString(), Token = NewToken() } : null;
        if (callback is not null)
        {
            tokens.Add(callback.Token, spec.PluginId);
        }

        var check = new ServerCertificateCheck(credentials);
        var connection = new WorkerConnection(TlsChannel.Create(address, credentials, check, link.MayConnect), token: null);
        try
        {
            using var startTimeout = new CancellationTokenSource(spec.Limits.StartTimeout, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(startTimeout.Token, cancellationToken);
            await ProbeUntilServingAsync(spec, address, connection, check, linked.Token, startTimeout.Token).ConfigureAwait(false);
            var healthyAt = time.GetUtcNow() - link.StartedAt;
            DescribeResponse description;
            try
            {
                description = await connection.Plugin.DescribeAsync(
                    new DescribeRequest { ProtocolVersion = Settings.ProtocolVersions.Max(), HostVersion = Settings.HostVersion, HostCallback = callback },
                    cancellationToken: linked.Token).ResponseAsync.ConfigureAwait(false);
            }
            catch (RpcException ex) when (startTimeout.IsCancellationRequested || ex.StatusCode != StatusCode.Cancelled)
            {
                throw new WorkerStartException(new StartFailure(StartFailureKind.Unresponsive, $"plugin '{spec.PluginId}' at {address} failed Describe: {ex.Status.StatusCode}: {ex.Status.Detail}", null, []));
            }

            var times = new WorkerStartTimes(TimeSpan.Zero, healthyAt, time.GetUtcNow() - link.StartedAt);
            Log.Attached(logger, spec.PluginId, address, times.Described.TotalMilliseconds);
            link.Arm();
            return new Worker(spec, link, null, null, connection, description, time, () => ForgetCallback(callback), startTimes: times);
        }
        catch
        {
            ForgetCallback(callback);
            connection.Dispose();
            await link.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private void ForgetCallback(HostCallback? callback)
    {
        if (callback is not null)
        {
            tokens.Remove(callback.Token);
        }
    }

    /// <summary>
    /// Probes health until SERVING. Each failure's reason is kept, so that a start that runs
    /// out of time says why (refused, a name or CA the TLS check did not accept, NOT_SERVING).
    /// </summary>
    private async Task ProbeUntilServingAsync(WorkerSpec spec, Uri address, WorkerConnection connection, ServerCertificateCheck check, CancellationToken token, CancellationToken startTimeout)
    {
        var lastFailure = "no probe answered";
        while (true)
        {
            check.Clear();
            try
            {
                var reply = await connection.Health.CheckAsync(new HealthCheckRequest(), deadline: time.GetUtcNow().UtcDateTime.Add(s_attachProbeTimeout), cancellationToken: token).ConfigureAwait(false);
                if (reply.Status == HealthCheckResponse.Types.ServingStatus.Serving)
                {
                    return;
                }

                lastFailure = $"its health service says {reply.Status}";
            }
            catch (RpcException ex) when (!token.IsCancellationRequested)
            {
                lastFailure = check.LastRefusal is { } refusal ? $"TLS refused: {refusal}" : $"{ex.Status.StatusCode}: {Innermost(ex)}";
            }
            catch (Exception ex) when (ex is RpcException or OperationCanceledException && startTimeout.IsCancellationRequested)
            {
                break;
            }

            try
            {
                await Task.Delay(s_attachProbeInterval, time, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (startTimeout.IsCancellationRequested)
            {
                break;
            }
        }

        throw new WorkerStartException(new StartFailure(StartFailureKind.Unreachable,
            $"plugin '{spec.PluginId}' attached at {address} did not serve within its start timeout of {spec.Limits.StartTimeout.TotalSeconds:0.###} s; last probe: {lastFailure}. Check that it runs with PLUGIN_ATTACH_LISTEN on that port, that its certificate names that host and chains to PluginHost:Attach:TrustedCaPath, and that its PLUGIN_TLS_CLIENT_CA signs the host's client certificate.", null, []));
    }

    /// <summary>What went wrong at the bottom (a refused connection, a name that did not resolve), not gRPC's wrapping of it.</summary>
    private static string Innermost(RpcException exception)
    {
        if (exception.Status.DebugException is not { } cause)
        {
            return exception.Status.Detail;
        }

        while (cause.InnerException is { } inner)
        {
            cause = inner;
        }

        return cause.Message;
    }
}
