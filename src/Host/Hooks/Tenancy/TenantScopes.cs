using System.Collections.Frozen;
using GrpcPlugins.Host.Registry;
using GrpcPlugins.Host.Settings;
using Microsoft.Extensions.Logging;

namespace GrpcPlugins.Host.Hooks.Tenancy;

/// <summary>
/// Each plugin's tenant scope: read from the store once at load, looked up in memory on every
/// hook call, and changed by admins durably first (a scope a restart would lose is not set).
/// </summary>
internal sealed partial class TenantScopes(IPluginStore store, LifecycleEvents events, ILogger<TenantScopes> logger) : IDisposable
{
    // Every change (load, an admin's, an uninstall's) is one turn through the store and memory, so
    // memory never ends up with a scope the store did not keep.
    private readonly SemaphoreSlim _setting = new(1, 1);

    // Read on every hook call for every plugin at the point, written by admins now and then: a frozen
    // copy replaced whole on each change (a concurrent dictionary's emptiness check takes its locks).
    private volatile FrozenDictionary<string, TenantScope> _scopes = FrozenDictionary<string, TenantScope>.Empty;

    /// <summary>The scope of <paramref name="pluginId"/>; every tenant when none was set.</summary>
    public TenantScope For(string pluginId)
    {
        var scopes = _scopes;
        return scopes.Count != 0 && scopes.TryGetValue(pluginId, out var scope) ? scope : TenantScope.All;
    }

    /// <summary>Reads every stored scope. A stored scope this host cannot read is logged and left at every tenant.</summary>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        await _setting.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var (pluginId, json) in await store.GetTenantScopesAsync(cancellationToken).ConfigureAwait(false))
            {
                var errors = new List<string>();
                if (TenantScopeJson.Read(json, errors) is { } scope)
                {
                    Replace(pluginId, scope);
                }
                else
                {
                    Log.Unreadable(logger, pluginId, string.Join(" ", errors));
                    events.Record(pluginId, "tenant-scope-unreadable", string.Join(" ", errors));
                }
            }
        }
        finally
        {
            _setting.Release();
        }
    }

    /// <summary>Sets a plugin's scope, on disk first, and records who did it.</summary>
    public async Task SetAsync(string pluginId, TenantScope scope, string by, CancellationToken cancellationToken)
    {
        var json = scope.Mode == TenantScopeMode.All ? null : TenantScopeJson.Write(scope).ToJsonString();
        await _setting.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Not cancelled half-way once its turn came: an admin who stops waiting must not leave a
            // scope on disk that memory does not have (a short write either way).
            await store.SetTenantScopeAsync(pluginId, json, CancellationToken.None).ConfigureAwait(false);
            Replace(pluginId, scope.Mode == TenantScopeMode.All ? null : scope);
        }
        finally
        {
            _setting.Release();
        }

        Log.Changed(logger, pluginId, scope.Describe(), by);
        events.Record(pluginId, "tenant-scope-changed", $"{scope.Describe()} by {by}");
    }

    /// <summary>Forgets an uninstalled plugin's scope (the store's row went with its settings).</summary>
    public async Task ForgetAsync(string pluginId)
    {
        await _setting.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            Replace(pluginId, null);
        }
        finally
        {
            _setting.Release();
        }
    }

    public void Dispose() => _setting.Dispose();

    // Only within a turn (_setting): readers see the old dictionary or the new one, whole.
    private void Replace(string pluginId, TenantScope? scope)
    {
        var scopes = new Dictionary<string, TenantScope>(_scopes, StringComparer.Ordinal);
        if (scope is null)
        {
            scopes.Remove(pluginId);
        }
        else
        {
            scopes[pluginId] = scope;
        }

        _scopes = scopes.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2030, EventName = "TenantScopeChanged", Level = LogLevel.Information, Message = "Plugin {Plugin}'s hooks now take {Scope} (set by {By}).")]
        public static partial void Changed(ILogger logger, string plugin, string scope, string by);

        [LoggerMessage(EventId = 2031, EventName = "TenantScopeUnreadable", Level = LogLevel.Error, Message = "Plugin {Plugin}'s stored tenant scope cannot be read ({Problem}); its hooks take every tenant until an admin sets it again with PUT .../tenant-scope.")]
        public static partial void Unreadable(ILogger logger, string plugin, string problem);
    }
}
