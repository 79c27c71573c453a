using Grpc.Core;
using Grpc.Health.V1;
using GrpcPlugins.Protocol;
using GrpcPlugins.Protocol.V1;
using GrpcPlugins.Supervisor.Connection;
using GrpcPlugins.Supervisor.Workers;

namespace GrpcPlugins.BundleTool.Checking;

/// <summary>
/// A worker must refuse every call that does not carry its host's per-spawn token, health
/// included: its socket is a file any local process of the host's user can reach, so a worker
/// that answers anyone lets them call its hooks and routes.
/// </summary>
internal static class TokenCheck
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(5);

    public static async Task<CheckResult> RunAsync(Worker worker, CancellationToken cancellationToken)
    {
        if (worker.Handshake is not { Network: "unix" } handshake)
        {
            return CheckResult.Skip("token", "not checked: the worker does not serve on a Unix socket");
        }

        var problems = new List<string>();
        foreach (var (token, how) in new (string?, string)[] { (null, "without a token"), ("not-the-token", "with a wrong token") })
        {
            using var connection = new WorkerConnection(UnixSocketChannel.Create(handshake.Address), token);
            problems.AddRange(await RefusedAsync($"Health {how}", () => connection.Health.CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.Add(s_deadline), cancellationToken: cancellationToken).ResponseAsync).ConfigureAwait(false));
            problems.AddRange(await RefusedAsync($"Describe {how}", () => connection.Plugin.DescribeAsync(new DescribeRequest(), deadline: DateTime.UtcNow.Add(s_deadline), cancellationToken: cancellationToken).ResponseAsync).ConfigureAwait(false));
        }

        return problems.Count == 0
            ? CheckResult.Pass("token", "Health and Describe refused without the token and with a wrong one (UNAUTHENTICATED)")
            : CheckResult.Fail("token", $"{string.Join("; ", problems)}. Any local process can reach the worker's socket: refuse every call whose 'plugin-token' metadata is not PLUGIN_TOKEN with UNAUTHENTICATED, health included, comparing in constant time (docs/protocol.md, section 3).");
    }

    private static async Task<IEnumerable<string>> RefusedAsync(string call, Func<Task> attempt)
    {
        try
        {
            await attempt().ConfigureAwait(false);
            return [$"{call} was answered"];
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Unauthenticated)
        {
            return [];
        }
        catch (RpcException ex)
        {
            return [$"{call} was refused with {ex.StatusCode}, not UNAUTHENTICATED"];
        }
    }
}
