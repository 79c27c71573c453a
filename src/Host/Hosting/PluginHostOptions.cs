using GrpcPlugins.Host.Hooks;
using GrpcPlugins.Host.Hooks.Tenancy;
using Microsoft.AspNetCore.Http;

namespace GrpcPlugins.Host.Hosting;

/// <summary>Configuration of the plugin host, bound from the "PluginHost" section.</summary>
public sealed class PluginHostOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "PluginHost";

    /// <summary>The directory with one folder per plugin, each with its plugin.json. Defaults to "plugins".</summary>
    public string PluginsDirectory { get; set; } = "plugins";

    /// <summary>
    /// The GrpcPlugins.PluginWorker.dll that runs plugins whose manifest names an
    /// "assembly". Defaults to the copy beside the host's own assemblies.
    /// </summary>
    public string WorkerPath { get; set; } = Path.Combine(AppContext.BaseDirectory, "GrpcPlugins.PluginWorker.dll");

    /// <summary>Where the host keeps its state (the SQLite store). Defaults to "state".</summary>
    public string StateDirectory { get; set; } = "state";

    /// <summary>
    /// Where sockets live: the host's callback socket and a private directory per
    /// worker. Defaults to a fresh directory under $XDG_RUNTIME_DIR or /tmp.
    /// At most 42 bytes (checked at start): Unix socket paths are limited to 107 bytes.
    /// </summary>
    public string? RuntimeDirectory { get; set; }

    /// <summary>
    /// Loads plugin folders that were not installed from a signed bundle. For
    /// development only: the host warns at every start for every such plugin.
    /// Defaults to false (unsigned plugins are refused).
    /// </summary>
    public bool AllowUnsignedPlugins { get; set; }

    /// <summary>
    /// Development only, with <see cref="AllowUnsignedPlugins"/>: a plugin whose folder changes (a
    /// build published over it) is reloaded from it once the folder has been quiet for a second,
    /// as <c>POST /admin/api/plugins/{id}/reload</c> does. Defaults to false.
    /// </summary>
    public bool ReloadOnChange { get; set; }

    /// <summary>A directory of trusted publishers' public keys (*.pem). Defaults to "trust".</summary>
    public string TrustedKeysDirectory { get; set; } = "trust";

    /// <summary>Time from spawn to handshake, first healthy probe and Describe. Defaults to 10 seconds.</summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Time a worker gets to exit after Shutdown before its process group is killed. Defaults to 5 seconds.</summary>
    public TimeSpan ShutdownGrace { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The deadline of a plugin route call when the manifest sets none. Defaults to 30 seconds.</summary>
    public TimeSpan RouteTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a streamed route response may stay silent before it is cut. Defaults to 60 seconds.</summary>
    public TimeSpan RouteIdleTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The largest request body a plugin route accepts when the manifest sets none (413 above). Defaults to 30 MiB.</summary>
    public long MaxRequestBodyBytes { get; set; } = 30L * 1024 * 1024;

    /// <summary>
    /// The largest message a client may send on a plugin's WebSocket, counted over its pieces as
    /// they arrive (nothing is buffered whole): past it the host closes the socket with 1009,
    /// message too big, and tells the plugin the same. Defaults to 1 MiB.
    /// </summary>
    public long MaxWebSocketMessageBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// WebSockets open at once on one plugin's routes when its manifest sets no
    /// <c>limits.maxWebSockets</c>: past it a handshake is answered 503 with
    /// Retry-After, without a call. Apart from <c>MaxConcurrentCallsPerPlugin</c>, since an open
    /// WebSocket holds no call place. Defaults to 1000.
    /// </summary>
    public int MaxWebSocketsPerPlugin { get; set; } = 1000;

    /// <summary>
    /// Whether a plugin that asks for it when it accepts a WebSocket (WebSocketAccept.compress) has
    /// the socket's messages to and from a client that offers it compressed (permessage-deflate,
    /// RFC 7692). Off by default: compression spends the host's CPU and memory on every socket
    /// that uses it, and can reveal a secret sent in the same message as text a client chooses
    /// (as CRIME and BREACH did), which the plugin, not the host, knows to avoid. A client's
    /// message counts against <see cref="MaxWebSocketMessageBytes"/> inflated.
    /// </summary>
    public bool AllowWebSocketCompression { get; set; }

    /// <summary>
    /// Plugins whose route responses are served without the sandbox every other plugin's are
    /// (<c>Content-Security-Policy: sandbox</c>, without same-origin). A page a plugin serves is
    /// on the host's origin: unsandboxed, its script would run as the admin page's does, with
    /// the admin's cookie, and could call the admin API (install, uninstall, read settings) as
    /// the admin who opened it. Name here only plugins trusted as much as the admin page, whose
    /// pages need the host's cookies or same-origin storage. Empty by default.
    /// </summary>
    public List<string> SameOriginPlugins { get; set; } = [];

    /// <summary>
    /// How long a closing WebSocket waits for the other end's close (the client's, or the
    /// plugin's) before it ends anyway, and how long the plugin has to accept a handshake
    /// is the route's deadline. Defaults to 5 seconds.
    /// </summary>
    public TimeSpan WebSocketCloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Whether a plugin that offers to (Describe's pulls_http_body) reads a streamed route
    /// request body from the host itself (PluginHost.ReadHttpBody) rather than taking it in
    /// HandleHttp's frames. Defaults to true: uploads reach the plugin about 1.5 times as
    /// fast (docs/benchmarks.md). False keeps every body inside the route call.
    /// </summary>
    public bool PullRouteBodies { get; set; } = true;

    /// <summary>The largest bundle the admin API accepts for install, in bytes. Defaults to 512 MiB: vendors ship native libraries.</summary>
    public long MaxBundleBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>The most a bundle may expand to when extracted, in bytes (checked before anything is written). Defaults to 2 GiB.</summary>
    public long MaxBundleExpandedBytes { get; set; } = Bundles.BundleLimits.DefaultMaxExpandedBytes;

    /// <summary>The most files, folders and links a bundle may hold. Defaults to 100,000.</summary>
    public int MaxBundleEntries { get; set; } = Bundles.BundleLimits.DefaultMaxEntries;

    /// <summary>
    /// How long an uploaded bundle stays staged, waiting for an admin to install it, before it is
    /// removed (a bundle leaves at once when installed). Defaults to 24 hours.
    /// </summary>
    public TimeSpan StagedBundleLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// Within this long after an upgrade through the admin API, a new version that crash-loops
    /// (it started, so the upgrade switched to it, then kept dying) is rolled back by the host to
    /// the bundle it replaced, as <c>POST /admin/api/plugins/{id}/rollback</c> would, without
    /// waiting for an admin. Zero (the default) leaves it crash-looping for an admin to look at.
    /// </summary>
    public TimeSpan RollbackOnCrashLoopWithin { get; set; }

    /// <summary>
    /// Within this long after an upgrade through the admin API, a new version whose hook calls the
    /// hook breaker pauses (<see cref="HookBreakerTimeouts"/> calls in a row missed their deadline:
    /// it runs, and its health answers, but its handlers hang) is rolled back by the host to the
    /// bundle it replaced, as for a crash loop. Zero (the default) leaves the breaker to pause and
    /// try it again, for an admin to decide; a host whose hooks wait on a backend that may be slow
    /// on its own keeps it so.
    /// </summary>
    public TimeSpan RollbackOnHookPauseWithin { get; set; }

    /// <summary>
    /// Within this long after an upgrade through the admin API, a new version whose hook calls or
    /// whose route calls (counted apart) fail <see cref="CallFailuresToRollBack"/> times in a row
    /// (the plugin errors, dies in the call or misses its deadline, or a route answers 5xx, with no
    /// other answer of the same kind in between: it runs and its health answers, but its handlers
    /// are broken) is rolled back by the host to the bundle it replaced, as for a crash loop. Zero
    /// (the default) leaves it serving, for an admin to decide; a host whose plugins fail for a
    /// backend's outage keeps it so.
    /// </summary>
    public TimeSpan RollbackOnCallFailuresWithin { get; set; }

    /// <summary>How many hook calls, or route calls, in a row must fail for <see cref="RollbackOnCallFailuresWithin"/> to roll an upgrade back. Defaults to 5.</summary>
    public int CallFailuresToRollBack { get; set; } = 5;

    internal Bundles.BundleLimits BundleLimits => new(MaxBundleExpandedBytes, MaxBundleEntries, DiskReserveBytes);

    /// <summary>What a bundle's upload or extraction leaves free on the disk it writes to: a tenth of <see cref="MinFreeDiskMiB"/>, the state disk's Unhealthy mark.</summary>
    internal long DiskReserveBytes => (long)MinFreeDiskMiB * 1024 * 1024 / 10;

    /// <summary>
    /// Connections one worker's process tree may hold open to the host's PluginHost service; more
    /// are closed at once (and logged), so a plugin leaking a gRPC channel per call cannot use up
    /// the host's file descriptors. A well-behaved plugin needs one. Defaults to 16.
    /// </summary>
    public int MaxHostConnectionsPerPlugin { get; set; } = 16;

    /// <summary>
    /// How many settings writes a second one plugin may make through the PluginHost service once it
    /// has used its burst (<see cref="SettingsWriteBurst"/>); more are refused (RESOURCE_EXHAUSTED,
    /// nothing saved), so a plugin writing in a loop cannot keep the store busy. Admins' writes are
    /// not paced. 0 turns pacing off. Defaults to 100 (the store commits about 1,300 a second).
    /// </summary>
    public int SettingsWritesPerSecond { get; set; } = 100;

    /// <summary>How many settings writes one plugin may make at once before <see cref="SettingsWritesPerSecond"/> paces it. Defaults to 200.</summary>
    public int SettingsWriteBurst { get; set; } = 200;

    /// <summary>The largest settings document, plugin-wide or one tenant's, in UTF-8 bytes. Defaults to 1 MiB.</summary>
    public int MaxSettingsBytes { get; set; } = 1024 * 1024;

    /// <summary>The most tenants one plugin may have settings for (the plugin-wide scope not counted). Defaults to 10,000.</summary>
    public int MaxSettingsTenants { get; set; } = 10_000;

    /// <summary>
    /// What all of one plugin's settings may take together. Every start offers them all back to
    /// the plugin, read whole first, so this bounds the host's memory and the start's length.
    /// Defaults to 64 MiB.
    /// </summary>
    public long MaxSettingsBytesPerPlugin { get; set; } = 64L * 1024 * 1024;

    internal Settings.SettingsLimits SettingsLimits => new(MaxSettingsBytes, MaxSettingsTenants, MaxSettingsBytesPerPlugin);

    /// <summary>
    /// How many admin actions the audit trail keeps in the store (GET /admin/api/audit); older
    /// ones are dropped as new ones come. Every action is also logged (event 1060), for a log
    /// store that keeps longer. Defaults to 100,000 (about 30 MB).
    /// </summary>
    public int AuditEntriesKept { get; set; } = 100_000;

    /// <summary>
    /// The scheduling niceness (0 to 19) every worker starts with, its threads and children
    /// included. Above 0, when the CPU is short the host's own threads run first, so a plugin
    /// spinning in a loop slows itself, not the host's other requests and plugins; a plugin
    /// on an idle CPU runs as fast as before. Defaults to 0 (the host's own priority). Workers
    /// share the host's scheduling group, so this is what holds a runaway plugin back: beside
    /// one spinning on two threads the host kept 0.39 of its own endpoint's rate at 0 and 0.69
    /// at 10, which cost routes and hooks nothing measurable (docs/benchmarks.md).
    /// </summary>
    public int WorkerNice { get; set; }

    /// <summary>The memory limit of a worker's process tree when the manifest sets none. Defaults to 512 MiB.</summary>
    public int DefaultMemoryLimitMiB { get; set; } = 512;

    /// <summary>
    /// The threads a worker's whole process group may run when its manifest sets no
    /// <c>limits.maxThreads</c>; a worker over it is killed and restarted (with backoff, under the
    /// crash-loop breaker). Every plugin runs as the host's user, whose threads the kernel bounds
    /// together with the machine's: one plugin leaking threads or forking without end would leave
    /// the host none. 0 counts and shows them without a limit. Defaults to 1024.
    /// </summary>
    public int DefaultMaxThreads { get; set; } = 1024;

    /// <summary>
    /// The cores' worth of CPU time a worker may use when its manifest sets no <c>limits.cpus</c>
    /// (0.5: half a core), held by the kernel in the worker's own cgroup under
    /// <see cref="CpuCgroupDirectory"/>: a plugin spinning on every core is throttled to its share,
    /// and the host's threads keep the rest. 0 (the default) sets none.
    /// </summary>
    public double DefaultCpus { get; set; }

    /// <summary>
    /// What a plugin's data directory may hold when its manifest sets no <c>limits.dataMiB</c>.
    /// A plugin over it is stopped and not restarted until an admin makes room, so one plugin's
    /// runaway cache cannot fill the disk the host's store is on. 0 measures and shows each
    /// directory without a limit. Defaults to 1024 MiB.
    /// </summary>
    public int DefaultDataLimitMiB { get; set; } = 1024;

    /// <summary>
    /// The free space, in MiB, under which <c>/healthz</c> reports the disk of
    /// <see cref="StateDirectory"/> (the store, the audit trail, the plugins' data) as
    /// Degraded, and Unhealthy under a tenth of it. Defaults to 1024 MiB.
    /// </summary>
    public int MinFreeDiskMiB { get; set; } = 1024;

    /// <summary>Time between measurements of each running plugin's data directory. Defaults to 10 seconds.</summary>
    public TimeSpan DataCheckInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Calls (hooks and routes together) one plugin may have in flight when its manifest sets no
    /// <c>limits.maxConcurrentCalls</c>; more are refused at once (a route answers 503 with
    /// Retry-After, a hook fails by its point's rule) instead of waiting on a plugin that has
    /// stopped keeping up. Defaults to 1000, the streams the Sdk's server takes on one connection.
    /// </summary>
    public int MaxConcurrentCallsPerPlugin { get; set; } = 1000;

    /// <summary>Time between health probes of a Ready worker. Defaults to 5 seconds.</summary>
    public TimeSpan HealthInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long one health probe may take. Defaults to 2 seconds.</summary>
    public TimeSpan HealthTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Consecutive failed probes before a worker is restarted as unresponsive. Defaults to 3.</summary>
    public int HealthFailureThreshold { get; set; } = 3;

    /// <summary>
    /// A cgroup directory delegated to the host (cgroup v2, or a cgroup v1 memory
    /// hierarchy) under which each worker gets its own cgroup with its memory limit,
    /// enforced by the kernel. Unset (the default), the RSS watchdog alone enforces
    /// limits. See docs/architecture.md, "Memory limits", for how to give the host one.
    /// </summary>
    public string? MemoryCgroupDirectory { get; set; }

    /// <summary>
    /// A cgroup v1 pids directory delegated to the host under which each worker with a thread
    /// limit gets its own cgroup, its pids.max that limit: the kernel refuses the thread or fork
    /// past it, however fast they come, and the worker is then killed for it. Unset (the default),
    /// the thread watchdog alone holds the limit. See docs/architecture.md, "CPU and thread limits".
    /// </summary>
    public string? PidsCgroupDirectory { get; set; }

    /// <summary>
    /// A cgroup v1 cpu directory delegated to the host under which each worker with a CPU limit
    /// (<c>limits.cpus</c>, or <see cref="DefaultCpus"/>) gets its own cgroup, its CFS quota that
    /// limit. Unset (the default), no CPU limit is enforced and the admin view says so for each
    /// plugin that asks for one. See docs/architecture.md, "CPU and thread limits".
    /// </summary>
    public string? CpuCgroupDirectory { get; set; }

    /// <summary>Time between readings of each worker's process group (its RSS and threads, against their limits). Defaults to 250 ms.</summary>
    public TimeSpan MemoryCheckInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Hook calls in a row that miss their deadline before the host pauses that plugin's hook
    /// calls (skipped at fail-open points, 503 at fail-closed ones) for <see cref="HookBreakerPause"/>.
    /// A hung handler behind a health service that still answers would otherwise cost every
    /// request the whole deadline. 0 never pauses. Defaults to 5.
    /// </summary>
    public int HookBreakerTimeouts { get; set; } = 5;

    /// <summary>How long a paused plugin's hook calls are skipped before one trial call decides. Defaults to 10 seconds.</summary>
    public TimeSpan HookBreakerPause { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The first restart delay. Defaults to 200 ms; it doubles with each restart.</summary>
    public TimeSpan RestartInitialBackoff { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest restart delay. Defaults to 30 seconds.</summary>
    public TimeSpan RestartMaxBackoff { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Ready this long resets the backoff. Defaults to 60 seconds.</summary>
    public TimeSpan RestartStablePeriod { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>More restarts than this within <see cref="RestartWindow"/> trip the crash-loop breaker. Defaults to 5.</summary>
    public int MaxRestarts { get; set; } = 5;

    /// <summary>The crash-loop intensity window. Defaults to 60 seconds.</summary>
    public TimeSpan RestartWindow { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The API key for the admin API and for plugin routes that are not anonymous,
    /// sent as "Authorization: Bearer KEY" or "X-Api-Key: KEY"; its holder is "admin"
    /// in the audit trail. No default: without it or <see cref="AdminApiKeys"/>, every
    /// protected endpoint answers 401 (default-deny). At least 12 characters.
    /// </summary>
    public string? AdminApiKey { get; set; }

    /// <summary>
    /// Admin keys by holder ("alice", "ci-deploy"), each working as <see cref="AdminApiKey"/>
    /// does, so the audit trail says who acted. Keys follow the configuration as it reloads: one
    /// added, changed or emptied here works or stops working at once, without a restart.
    /// </summary>
    public Dictionary<string, string> AdminApiKeys { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Key holders (of <see cref="AdminApiKeys"/>, or "admin" for <see cref="AdminApiKey"/>) whose
    /// keys may only read: the admin API's GETs and the page, not one change (403, in the audit
    /// trail), for a dashboard or an on-call engineer who watches plugins. With the default
    /// policies, their keys make only GET and HEAD requests to plugin routes too. Follows the
    /// configuration as it reloads, as the keys do.
    /// </summary>
    public List<string> ReadOnlyAdmins { get; set; } = [];

    /// <summary>
    /// How many wrong admin keys one address (an IPv6 one's /64) may present within
    /// <see cref="AdminKeyLockout"/> before every key from it is refused (429) for that long. Defaults to 10.
    /// </summary>
    public int AdminKeyFailuresAllowed { get; set; } = 10;

    /// <summary>The window <see cref="AdminKeyFailuresAllowed"/> counts in, and how long a lockout lasts. Defaults to one minute.</summary>
    public TimeSpan AdminKeyLockout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Environment variables every worker gets on top of the host's own and the host's
    /// defaults for .NET workers (<c>DOTNET_gcServer=0</c>, a GC heap hard limit at ¾ of
    /// the memory limit), which these override. For example <c>DOTNET_TieredPGO=0</c>
    /// halves the p99 of long hook chains at the cost of a sixth of one busy plugin's
    /// throughput (docs/benchmark-history.md, session 5). Names starting with <c>PLUGIN_</c> belong to the
    /// handshake and are refused. Defaults to none.
    /// </summary>
    public IDictionary<string, string> WorkerEnvironment { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// Prefixes of the host's environment variables no worker inherits, compared ignoring case,
    /// for what the application keeps in its environment and plugins must not read (for example
    /// <c>ConnectionStrings__</c> or <c>AWS_</c>). The host's own configuration (<c>PluginHost__</c>,
    /// with the admin keys) and Kestrel's are always withheld. <see cref="WorkerEnvironment"/> and a
    /// manifest's <c>env</c> may still set such a variable. Defaults to none.
    /// </summary>
    public List<string> WorkerEnvironmentWithheld { get; set; } = [];

    /// <summary>
    /// What every worker is kept from in the host's environment: the host's configuration, its
    /// admin keys first (a plugin that read one could take over the admin API), and Kestrel's
    /// endpoints (a .NET plugin on a web host of its own would bind the application's port).
    /// Each also as .NET reads it with the ASPNETCORE_ and DOTNET_ prefixes.
    /// </summary>
    internal static readonly IReadOnlyList<string> AlwaysWithheld =
        [.. new[] { SectionName + "__", "Kestrel__" }.SelectMany(name => new[] { name, "ASPNETCORE_" + name, "DOTNET_" + name })];

    /// <summary>
    /// Limits the host's admin sets for single plugins, by plugin id, over what their manifests
    /// say (<c>PluginHost:PluginLimits:{id}:DataMiB</c>): a signed bundle's manifest cannot be
    /// edited, and a vendor's figures need not fit this machine. Values left unset keep the
    /// manifest's. Read when the plugin is loaded or installed, and again when an admin restarts
    /// it, so a changed limit needs no restart of the host. Defaults to none.
    /// </summary>
    public IDictionary<string, PluginLimitsOptions> PluginLimits { get; } = new Dictionary<string, PluginLimitsOptions>(StringComparer.Ordinal);

    /// <summary>The hook points the host application declares. Defaults to none.</summary>
    public IList<HookPoint> HookPoints { get; } = [];

    /// <summary>
    /// Plugin order per hook point: ids listed here run first, in this order;
    /// the rest follow by manifest priority, then id.
    /// </summary>
    public IDictionary<string, IList<string>> HookOrder { get; } = new Dictionary<string, IList<string>>(StringComparer.Ordinal);

    /// <summary>
    /// Hook points every plugin route (<c>/plugins/{id}/…</c>) runs through, as an
    /// application endpoint does with <c>WithPluginHooks</c>: after the host has
    /// decided the request may reach the plugin, so hook plugins never see a
    /// request the host refuses. Set in code; plugins then see other plugins'
    /// traffic, which is the host's choice to make. Defaults to none.
    /// </summary>
    public EndpointHooks? PluginRouteHooks { get; set; }

    /// <summary>
    /// The tenant of a request to a plugin route (a header, a claim, the host name), resolved
    /// after the host has let the request through. Set, it does three things: the plugin gets it
    /// with the request (to read that tenant's settings, say); a plugin whose tenant scope leaves
    /// the tenant out answers 404 without a call, as if it were not installed for them; and the
    /// route's hook points (<see cref="PluginRouteHooks"/>) get it when they set no tenant of their
    /// own. Set in code. Defaults to none: every route call has no tenant and tenant scopes are
    /// for hooks only.
    /// </summary>
    public Func<HttpContext, string>? RouteTenant { get; set; }

    /// <summary>
    /// The tenant scope of every plugin no admin has scoped (none set, or reset with
    /// <c>DELETE .../tenant-scope</c>). Defaults to every tenant. A host that sells plugins to
    /// tenants one by one sets <c>Mode</c> <see cref="TenantScopeMode.Only"/> with no tenants, so a
    /// new plugin serves nobody until an admin lets some in.
    /// </summary>
    public DefaultTenantScopeOptions DefaultTenantScope { get; set; } = new();

    /// <summary>
    /// The host's TLS identity for attached workers (a manifest's <c>attach</c>); unset, a
    /// plugin that asks to be attached fails its start with this setting named.
    /// </summary>
    public AttachOptions Attach { get; set; } = new();

    /// <summary>
    /// Where the host keeps its state: an embedded SQLite file in <see cref="StateDirectory"/>
    /// unless a PostgreSQL database shared by host replicas is named.
    /// </summary>
    public StoreOptions Store { get; set; } = new();
}
