using System.Net.Http.Headers;
using System.Security.Cryptography;
using GrpcPlugins.Host.Hooks;
using GrpcPlugins.Host.Hosting;
using GrpcPlugins.Host.Registry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GrpcPlugins.BundleTool.Checking;

/// <summary>
/// A real plugin host, in this process, for one check: Kestrel on a free loopback port, its
/// state in a temp directory, the checked plugin and its dependencies linked into a plugins
/// directory of their own, a hook point for each hook the plugin declares. Disposing it stops
/// every worker and removes the directory.
/// </summary>
internal sealed class CheckHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _root;

    private CheckHost(WebApplication app, string root, string adminKey)
    {
        _app = app;
        _root = root;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Client = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(60) };
        Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
    }

    /// <summary>An HTTP client for the host, signed in with its admin key (plugin routes take it too).</summary>
    public HttpClient Client { get; }

    public IServiceProvider Services => _app.Services;

    public PluginCatalog Catalog => _app.Services.GetRequiredService<PluginCatalog>();

    public IHookDispatcher Hooks => _app.Services.GetRequiredService<IHookDispatcher>();

    public PluginHostOptions Options => _app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<PluginHostOptions>>().Value;

    /// <summary>Deadline of the check's hook points: long, so that the plugin's own call timeout is the one that cuts a call.</summary>
    public static TimeSpan HookDeadline { get; } = TimeSpan.FromSeconds(60);

    public static async Task<CheckHost> StartAsync(PluginManifest checkedPlugin, CheckRequest request, HostLogCollector logs, CancellationToken cancellationToken)
    {
        var root = Directory.CreateTempSubdirectory("gpc-").FullName;
        WebApplication? app = null;
        try
        {
            var plugins = Directory.CreateDirectory(Path.Combine(root, "plugins")).FullName;
            // Linked, not copied: a vendor's folder with its native libraries may be large.
            foreach (var folder in request.Dependencies.Prepend(request.Folder))
            {
                var id = ManifestReader.Read(folder, out _)?.Id ?? Path.GetFileName(folder);
                Directory.CreateSymbolicLink(Path.Combine(plugins, id), folder);
            }

            var adminKey = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
            var builder = WebApplication.CreateSlimBuilder();
            // The check's host is the check's alone: not the working directory's appsettings.json (an
            // application's folder, whose Kestrel:Endpoints it bound too) nor PluginHost__ variables.
            builder.Configuration.Sources.Clear();
            // What the builder sets below (its URL) needs a source to be written to.
            builder.Configuration.AddInMemoryCollection();
            builder.Logging.ClearProviders();
            builder.Logging.AddProvider(logs).SetMinimumLevel(LogLevel.Warning);
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Services.AddPluginHost(o =>
            {
                o.PluginsDirectory = plugins;
                o.StateDirectory = Path.Combine(root, "state");
                o.RuntimeDirectory = root;
                o.AdminApiKey = adminKey;
                o.AllowUnsignedPlugins = true;
                // A failed start is reported at once, whatever follows; a worker that exits when the
                // check asks it to is soon started again, for the next check of the way it ends.
                o.RestartInitialBackoff = TimeSpan.FromMilliseconds(100);
                o.RestartMaxBackoff = TimeSpan.FromMilliseconds(100);
                // The check's temp directory is not the state disk a real host watches.
                o.MinFreeDiskMiB = 0;
                if (request.TrustDirectory is { } trust)
                {
                    // A signed folder is verified at load against these keys, as a host verifies it.
                    o.TrustedKeysDirectory = trust;
                }

                if (request.WorkerPath is { } worker)
                {
                    o.WorkerPath = worker;
                }

                foreach (var point in checkedPlugin.Hooks.Select(h => h.Point).Distinct(StringComparer.Ordinal))
                {
                    o.HookPoints.Add(new HookPoint(point, HookFailureMode.FailOpen, HookDeadline));
                }
            });

            app = builder.Build();
            app.UseWebSockets();
            app.MapPluginEndpoints();
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            return new CheckHost(app, root, adminKey);
        }
        catch
        {
            if (app is not null)
            {
                try
                {
                    // A start cut short (Ctrl+C) may have spawned the worker already: stopping stops it.
                    await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
                }
                finally
                {
                    await app.DisposeAsync().ConfigureAwait(false);
                }
            }

            Directory.Delete(root, recursive: true);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        try
        {
            await _app.StopAsync().ConfigureAwait(false);
        }
        finally
        {
            await _app.DisposeAsync().ConfigureAwait(false);
            Directory.Delete(_root, recursive: true);
        }
    }
}
