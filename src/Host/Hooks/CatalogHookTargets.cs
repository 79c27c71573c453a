using GrpcPlugins.Host.Calls;
using GrpcPlugins.Host.Hooks.Breaker;
using GrpcPlugins.Host.Hosting;
using GrpcPlugins.Host.Registry;
using GrpcPlugins.Protocol.V1;
using GrpcPlugins.Supervisor.Supervision;
using Microsoft.Extensions.Options;

namespace GrpcPlugins.Host.Hooks;

/// <summary>
/// The plugins of each hook point, from the catalog: ordered by the host's
/// configured order, then manifest priority, then id. Disabled and refused
/// plugins are not targets; stopped or restarting ones are, and fail as unavailable.
/// </summary>
internal sealed class CatalogHookTargets(PluginCatalog catalog, IOptions<PluginHostOptions> options, HookBreakers breakers, Tenancy.TenantScopes scopes) : IHookTargets
{
    // The order only changes when the catalog is republished, so it is computed once per publication.
    private volatile Ordered _ordered = new([], new Dictionary<string, WorkerHookTarget[]>());

    public IReadOnlyList<IHookTarget> For(string point)
    {
        // On every hook call (twice for an endpoint's point): the cached order as it is while
        // every plugin in it is called, a filtered copy only when one is stopped.
        var all = All(point);
        return Array.TrueForAll(all, t => IsCalled(t.Supervisor)) ? all : [.. all.Where(t => IsCalled(t.Supervisor))];
    }

    /// <summary>
    /// Every plugin registered for <paramref name="point"/> in call order, its worker's state
    /// ("Ready, hook calls paused" while its breaker is open, "Ready, at its call limit" while it
    /// refuses calls over its limit), whether a call now would reach it, and which calls it handles.
    /// </summary>
    public IReadOnlyList<(string PluginId, string State, bool Called, HookMatch Match)> Registered(string point) =>
        [.. All(point).Select(t => breakers.View(t.PluginId).State == HookBreakerState.Open && IsCalled(t.Supervisor)
            ? (t.PluginId, $"{t.Supervisor.State}, hook calls paused", false, t.Match)
            : t.Supervisor.AtCallLimit && IsCalled(t.Supervisor)
                ? (t.PluginId, $"{t.Supervisor.State}, at its call limit", true, t.Match)
                : (t.PluginId, t.Supervisor.State.ToString(), IsCalled(t.Supervisor), t.Match))];

    private static bool IsCalled(PluginSupervisor supervisor) => supervisor.State is not (WorkerState.Stopped or WorkerState.Exited);

    private WorkerHookTarget[] All(string point)
    {
        var ordered = _ordered;
        if (!ReferenceEquals(ordered.Entries, catalog.Entries))
        {
            ordered = _ordered = new Ordered(catalog.Entries, new Dictionary<string, WorkerHookTarget[]>(StringComparer.Ordinal));
        }

        lock (ordered.ByPoint)
        {
            if (!ordered.ByPoint.TryGetValue(point, out var all))
            {
                all = ordered.ByPoint[point] = Order(ordered.Entries, point);
            }

            return all;
        }
    }

    private WorkerHookTarget[] Order(IReadOnlyList<PluginEntry> entries, string point)
    {
        var order = options.Value.HookOrder.TryGetValue(point, out var configured) ? configured : [];
        return [.. entries
            .Where(e => e.Supervisor is not null && e.Manifest!.Hooks.Any(h => h.Point == point))
            .OrderBy(e => order.IndexOf(e.Id) is var i && i >= 0 ? i : int.MaxValue)
            .ThenBy(e => e.Manifest!.Hooks.First(h => h.Point == point).Priority)
            .ThenBy(e => e.Id, StringComparer.Ordinal)
            .Select(e => new WorkerHookTarget(e.Supervisor!, e.Manifest!.Limits.CallTimeout, e.Manifest!.Hooks.First(h => h.Point == point).Match, breakers, scopes))];
    }

    private sealed record Ordered(IReadOnlyList<PluginEntry> Entries, Dictionary<string, WorkerHookTarget[]> ByPoint);

    private sealed class WorkerHookTarget(PluginSupervisor supervisor, TimeSpan? callTimeout, HookMatch match, HookBreakers breakers, Tenancy.TenantScopes scopes) : IHookTarget
    {
        private readonly HookBreaker _breaker = breakers.For(supervisor.PluginId);

        public PluginSupervisor Supervisor => supervisor;

        public string PluginId => supervisor.PluginId;

        public TimeSpan? CallTimeout => callTimeout;

        public HookMatch Match => match;

        // Looked up on each call rather than held: an admin's change applies to the next call.
        public bool TakesTenant(string tenantId) => scopes.For(PluginId).Takes(tenantId);

        public async ValueTask<HookTargetResult> InvokeAsync(HookRequest request, CallDeadline deadline)
        {
            using var lease = supervisor.Lease();
            if (lease.Worker is not { } worker)
            {
                return new HookTargetResult(null, LeaseFailure.Of(supervisor, lease));
            }

            var pass = _breaker.Enter(worker.Pid);
            if (!pass.Allowed)
            {
                return new HookTargetResult(null, breakers.Skipped(PluginId, pass));
            }

            var end = HookCallEnd.Inconclusive;
            try
            {
                var response = await worker.Connection.InvokeHookAsync(request, deadline.Token).ConfigureAwait(false);
                end = HookCallEnd.Answered;
                return new HookTargetResult(response, null);
            }
            catch (Exception ex) when (ex is Grpc.Core.RpcException or OperationCanceledException or IOException)
            {
                var failure = RpcFailureClassifier.Classify(PluginId, ex, deadline, worker);
                end = deadline.CallerCancelled ? HookCallEnd.Inconclusive : failure.Kind switch
                {
                    CallFailureKind.TimedOut => HookCallEnd.TimedOut,
                    CallFailureKind.Errored => HookCallEnd.Answered,
                    _ => HookCallEnd.Inconclusive,
                };
                return new HookTargetResult(null, failure);
            }
            finally
            {
                breakers.Exit(PluginId, _breaker, pass, end, deadline.Deadline);
            }
        }
    }
}
