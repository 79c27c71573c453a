using System.Collections.Frozen;
using GrpcPlugins.Host.Registry;
using GrpcPlugins.Host.Settings;
using GrpcPlugins.Host.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GrpcPlugins.Host.Hooks.Tenancy;

/// <summary>
/// Each plugin's tenant scope: read from the store once at load, looked up in memory on every
/// hook call, and changed by admins durably first (a scope a restart would lose is not set).
/// </summary>
internal sealed partial class TenantScopes(IPluginStore store, LifecycleEvents events, IOptions<PluginHostOptions> options, ILogger<TenantScopes> logger) : IDisposable
{
    /// <summary>The scope of a plugin no admin has scoped (<c>PluginHost:DefaultTenantScope</c>).</summary>
    public TenantScope Default { get; } = options.Value.DefaultTenantScope.ToScope();

    // Every change (load, an admin's, an uninstall's) is one turn through the store and memory, so
    // memory never ends up with a scope the store did not keep.
    private readonly SemaphoreSlim _setting = new(1, 1);

    // Read on every hook call for every plugin at the point, written by admins now and then: a frozen
    // copy replaced whole on each change (a concurrent dictionary's emptiness check takes its locks).
    private volatile FrozenDictionary<string, TenantScope> _scopes = FrozenDictionary<string, TenantScope>.Empty;

    /// <summary>The scope of <paramref name="pluginId"/>: the one an admin set, else <see cref="Default"/>.</summary>
    public TenantScope For(string pluginId)
    {
        var scopes = _scopes;
        return scopes.Count != 0 && scopes.TryGetValue(pluginId, out var scope) ? scope : Default;
    }

    /// <summary>The scope an admin set for <paramref name="pluginId"/>, or null while it has the default.</summary>
    public TenantScope? SetByAdmin(string pluginId) => _scopes.TryGetValue(pluginId, out var scope) ? scope : null;

    /// <summary>For admins: the scope in words, saying when it is the host's default rather than an admin's.</summary>
    public string Describe(string pluginId) => SetByAdmin(pluginId) is { } scope
        ? scope.Describe()
        : Default.Mode == TenantScopeMode.All ? Default.Describe() : $"{Default.Describe()} (the host's default)";

    /// <summary>Reads every stored scope. A stored scope this host cannot read is logged and left at the default.</summary>
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
                    Log.Unreadable(logger, pluginId, string.Join(" ", errors), Default.Describe());
                    events.Record(pluginId, "tenant-scope-unreadable", string.Join(" ", errors));
                }
            }
        }
        finally
        {
            _setting.Release();
        }
    }

    /// <summary>
    /// Sets a plugin's scope, on disk first, and records who did it. Every tenant is stored too
    /// (as <c>{}</c>): an admin's choice, which a stricter default must not replace.
    /// </summary>
    public async Task SetAsync(string pluginId, TenantScope scope, string by, CancellationToken cancellationToken)
    {
        await StoreAsync(pluginId, scope, cancellationToken).ConfigureAwait(false);
        Log.Changed(logger, pluginId, scope.Describe(), by);
        events.Record(pluginId, "tenant-scope-changed", $"{scope.Describe()} by {by}");
    }

    /// <summary>Gives a plugin the host's default scope again, on disk first, and records who did it.</summary>
    public async Task ResetAsync(string pluginId, string by, CancellationToken cancellationToken)
    {
        await StoreAsync(pluginId, null, cancellationToken).ConfigureAwait(false);
        Log.Reset(logger, pluginId, Default.Describe(), by);
        events.Record(pluginId, "tenant-scope-changed", $"the host's default ({Default.Describe()}) by {by}");
    }

    /// <summary>Puts back what <see cref="SetByAdmin"/> said before a change that did not hold (a refused install).</summary>
    public Task RestoreAsync(string pluginId, TenantScope? before, string by, CancellationToken cancellationToken) =>
        before is null ? ResetAsync(pluginId, by, cancellationToken) : SetAsync(pluginId, before, by, cancellationToken);

    private async Task StoreAsync(string pluginId, TenantScope? scope, CancellationToken cancellationToken)
    {
        var json = scope is null ? null : TenantScopeJson.Write(scope).ToJsonString();
        await _setting.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Not cancelled half-way once its turn came: an admin who stops waiting must not leave a
            // scope on disk that memory does not have (a short write either way).
            await store.SetTenantScopeAsync(pluginId, json, CancellationToken.None).ConfigureAwait(false);
            Replace(pluginId, scope);
        }
        finally
        {
            _setting.Release();
        }
    }

    /// <summary>Reads a plugin's scope again (another host replica set or reset it); its description now.</summary>
    public async Task<string> ReloadAsync(string pluginId, CancellationToken cancellationToken)
    {
        await _setting.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var errors = new List<string>();
            var stored = await store.GetTenantScopeAsync(pluginId, cancellationToken).ConfigureAwait(false);
            var scope = stored is null ? null : TenantScopeJson.Read(stored, errors);
            if (errors.Count > 0)
            {
                Log.Unreadable(logger, pluginId, string.Join(" ", errors), Default.Describe());
            }

            Replace(pluginId, scope);
        }
        finally
        {
            _setting.Release();
        }

        return Describe(pluginId);
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

        [LoggerMessage(EventId = 2031, EventName = "TenantScopeUnreadable", Level = LogLevel.Error, Message = "Plugin {Plugin}'s stored tenant scope cannot be read ({Problem}); it has the host's default ({Default}) until an admin sets it again with PUT .../tenant-scope.")]
        public static partial void Unreadable(ILogger logger, string plugin, string problem, string @default);

        [LoggerMessage(EventId = 2032, EventName = "TenantScopeReset", Level = LogLevel.Information, Message = "Plugin {Plugin} has the host's default tenant scope again, {Scope} (set by {By}).")]
        public static partial void Reset(ILogger logger, string plugin, string scope, string by);
    }
}
