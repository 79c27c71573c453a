using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using GrpcPlugins.Host.Admin;
using GrpcPlugins.Host.Hooks;
using GrpcPlugins.Host.Registry;
using GrpcPlugins.Supervisor.Supervision;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GrpcPlugins.BundleTool.Checking;

/// <summary>
/// Runs one plugin folder in a real host, as an admin's host would, and says for each step of
/// the protocol whether the plugin did what it must: its manifest, its start (handshake,
/// health, Describe), its settings, each hook it declares, each route that can be called
/// without parameters, and its exit when asked. For an author in any language, before a host
/// ever sees the plugin; every failure says what the host saw and how to fix it.
/// </summary>
internal sealed class PluginCheck(CheckRequest request, TimeProvider time)
{
    // Host events that say nothing about the plugin under check: it is unsigned by design here.
    private static readonly HashSet<int> s_expectedEvents = [1005];

    // What a failure already said, so the host's log line saying it again is not shown twice.
    private readonly List<string> _said = [];

    /// <summary>Runs every step, handing each result to <paramref name="report"/> as it comes; true when none failed.</summary>
    public async Task<bool> RunAsync(Action<CheckResult> report, CancellationToken cancellationToken)
    {
        var failed = false;
        void Report(CheckResult result)
        {
            failed |= result.Verdict == CheckVerdict.Failed;
            report(result);
        }

        var manifest = ManifestReader.Read(request.Folder, out var errors);
        if (manifest is null)
        {
            Report(CheckResult.Fail("manifest", string.Join(" ", errors)));
            return false;
        }

        Report(CheckResult.Pass("manifest", Describe(manifest)));
        if (manifest.AttachAddress is not null)
        {
            Report(CheckResult.Skip("start", "an attached worker is dialled where it runs, over mutual TLS; check it by attaching it to a host (docs/writing-a-plugin.md)"));
            return !failed;
        }

        if (manifest.Assembly is not null && request.WorkerPath is null && !File.Exists(new Host.Hosting.PluginHostOptions().WorkerPath))
        {
            Report(CheckResult.Fail("start", "it runs under PluginWorker, which is not beside this tool: pass --worker <GrpcPlugins.PluginWorker.dll> (make plugins publishes it to build/worker)"));
            return false;
        }

        var logs = new HostLogCollector();
        CheckHost host;
        try
        {
            host = await CheckHost.StartAsync(manifest, request, logs, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is Microsoft.Extensions.Options.OptionsValidationException or IOException or InvalidOperationException or UnauthorizedAccessException)
        {
            Report(CheckResult.Fail("host", $"the checking host did not start: {ex.Message}"));
            return false;
        }

        await using (host.ConfigureAwait(false))
        {
            if (await StartAsync(host, manifest, Report, cancellationToken).ConfigureAwait(false))
            {
                await HealthAsync(host, manifest.Id, Report, cancellationToken).ConfigureAwait(false);
                if (host.Catalog.Find(manifest.Id)?.Supervisor?.ReadyWorker is { } worker)
                {
                    Report(await TokenCheck.RunAsync(worker, cancellationToken).ConfigureAwait(false));
                    Report(await HostOnlyCheck.RunAsync(worker, _said.Add, cancellationToken).ConfigureAwait(false));
                }

                foreach (var hook in manifest.Hooks)
                {
                    Report(await HookAsync(host, manifest.Id, hook, cancellationToken).ConfigureAwait(false));
                }

                foreach (var route in manifest.Routes)
                {
                    Report(await RouteAsync(host, manifest.Id, route, cancellationToken).ConfigureAwait(false));
                }

                if (host.Catalog.Find(manifest.Id)?.Supervisor?.ReadyWorker is { Description.ServesWebsockets: true })
                {
                    foreach (var route in manifest.Routes.Where(r => r.Method == "GET" && !NeedsParameters(r)))
                    {
                        Report(await WebSocketCheck.RunAsync(host, manifest.Id, route, time, cancellationToken).ConfigureAwait(false));
                    }
                }

                foreach (var call in request.Calls ?? [])
                {
                    Report(await CallAsync(host, manifest.Id, call, cancellationToken).ConfigureAwait(false));
                }

                Report(Memory(host, manifest.Id));
                Report(Threads(host, manifest.Id));
                await new ExitChecks(host, manifest.Id, time, _said.Add).RunAsync(Report, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                foreach (var subject in manifest.Hooks.Select(h => new CheckSubject("hook", h.Point))
                             .Concat(manifest.Routes.Select(r => new CheckSubject("route", $"{r.Method} {r.Path}")))
                             .Concat((request.Calls ?? []).Select(c => new CheckSubject("call", c.Target))))
                {
                    Report(CheckResult.Skip(subject, "not called: the plugin did not start"));
                }
            }

            foreach (var (level, id, message) in logs.Entries.Where(e => !s_expectedEvents.Contains(e.Event.Id) && !_said.Any(said => e.Message.Contains(said, StringComparison.Ordinal))))
            {
                var subject = new CheckSubject("host log", $"{level}, {id.Name ?? id.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)}", Aside: true);
                Report(level >= LogLevel.Error ? CheckResult.Fail(subject, message) : CheckResult.Warn(subject, message));
            }
        }

        return !failed;
    }

    private static string Describe(PluginManifest manifest)
    {
        var runs = manifest.AttachAddress is { } address ? $"attached at {address}" : manifest.Assembly is { } assembly ? $"{Path.GetFileName(assembly)} under PluginWorker" : $"{manifest.Command} {string.Join(' ', manifest.Arguments)}".Trim();
        var hooks = manifest.Hooks.Count == 0 ? "no hooks" : $"hooks {string.Join(", ", manifest.Hooks.Select(h => h.Point))}";
        var routes = manifest.Routes.Count == 0 ? "no routes" : $"routes {string.Join(", ", manifest.Routes.Select(r => $"{r.Method} {r.Path}"))}";
        return $"{manifest.Id} {manifest.Version}, runs {runs}; {hooks}; {routes}";
    }

    private async Task<bool> StartAsync(CheckHost host, PluginManifest manifest, Action<CheckResult> report, CancellationToken cancellationToken)
    {
        var id = manifest.Id;
        var settingsGiven = false;
        var limit = (manifest.Limits.StartTimeout ?? host.Options.StartTimeout) + TimeSpan.FromSeconds(5);
        var started = time.GetTimestamp();
        while (true)
        {
            var entry = host.Catalog.Find(id);
            if (entry is null || entry.IsRefused)
            {
                report(CheckResult.Fail("start", $"the host refused it: {string.Join(" ", entry?.Refusal ?? ["it is not in the catalog"])}"));
                return false;
            }

            // Built only for a verdict, not on every poll: it reads the entry's logs and kept bundles.
            PluginView View() => host.Services.GetRequiredService<PluginViewFactory>().Create(entry, includeLogs: true);
            var (lifecycle, reason) = host.Services.GetRequiredService<PluginLifecycle>().StateOf(id);
            var snapshot = entry.Supervisor!.Snapshot;
            if (lifecycle == LifecycleState.PendingConfig || (request.SettingsFile is not null && !settingsGiven && snapshot.State == WorkerState.Ready))
            {
                if (request.SettingsFile is null || settingsGiven)
                {
                    report(CheckResult.Fail("start", $"it waits for settings: {reason} Give them with --settings <settings.json>."));
                    return false;
                }

                settingsGiven = true;
                var accepted = await PutSettingsAsync(host, id, cancellationToken).ConfigureAwait(false);
                report(accepted);
                if (accepted.Verdict == CheckVerdict.Failed)
                {
                    return false;
                }

                continue;
            }

            if (snapshot.State == WorkerState.Ready)
            {
                var steps = View().Start is { } s ? $": handshake {s.HandshakeMs:0} ms, healthy {s.HealthyMs:0} ms, described {s.DescribedMs:0} ms, Ready {s.ReadyMs:0} ms from its spawn" : string.Empty;
                report(CheckResult.Pass("start", $"Ready as pid {snapshot.Pid}{steps}"));
                return true;
            }

            if (snapshot.State is WorkerState.Crashed or WorkerState.BackingOff or WorkerState.CrashLooping or WorkerState.Halted or WorkerState.Exited || lifecycle == LifecycleState.Disabled)
            {
                var error = snapshot.LastError ?? snapshot.State.ToString();
                report(Said(error, CheckResult.Fail("start", $"{error}{Tail(View().RecentLogLines)}")));
                return false;
            }

            if (time.GetElapsedTime(started) > limit)
            {
                var waiting = reason.Length > 0 ? $" ({reason})" : string.Empty;
                report(CheckResult.Fail("start", $"not Ready within {limit.TotalSeconds:0} s: it is {snapshot.State}{waiting}{Tail(View().RecentLogLines)}. A plugin it depends on is given with --with <folder>."));
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(25), time, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<CheckResult> PutSettingsAsync(CheckHost host, string id, CancellationToken cancellationToken)
    {
        string text;
        try
        {
            text = await File.ReadAllTextAsync(request.SettingsFile!, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            return CheckResult.Fail("settings", $"{request.SettingsFile} could not be read: {ex.Message}");
        }

        using var body = new StringContent(text, Encoding.UTF8, "application/json");
        using var answer = await host.Client.PutAsync($"/admin/api/plugins/{Uri.EscapeDataString(id)}/settings", body, cancellationToken).ConfigureAwait(false);
        if (answer.IsSuccessStatusCode)
        {
            return CheckResult.Pass("settings", $"{request.SettingsFile} accepted by the schema and by the plugin's Configure, revision {answer.Headers.ETag?.Tag.Trim('"')}");
        }

        var problem = await answer.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        return CheckResult.Fail("settings", $"{request.SettingsFile} refused ({(int)answer.StatusCode}): {ProblemText(problem)}");
    }

    private static async Task HealthAsync(CheckHost host, string id, Action<CheckResult> report, CancellationToken cancellationToken)
    {
        using var health = await host.Client.GetAsync("/healthz", cancellationToken).ConfigureAwait(false);
        var document = await health.Content.ReadFromJsonAsync<JsonElement>(cancellationToken).ConfigureAwait(false);
        if (!document.TryGetProperty("entries", out var entries) || !entries.TryGetProperty("plugin:" + id, out var entry))
        {
            report(CheckResult.Fail("health", "/healthz has no entry for it"));
            return;
        }

        var status = entry.GetProperty("status").GetString();
        var description = entry.TryGetProperty("description", out var d) ? d.GetString() : null;
        report(status == "Healthy" ? CheckResult.Pass("health", "Healthy in /healthz") : CheckResult.Fail("health", $"{status} in /healthz: {description}"));
    }

    private async Task<CheckResult> HookAsync(CheckHost host, string id, ManifestHook hook, CancellationToken cancellationToken)
    {
        var subject = new CheckSubject("hook", hook.Point);
        var input = SampleHookCall.For(hook);
        var began = time.GetTimestamp();
        var outcome = await host.Hooks.DispatchAsync(new HookPoint(hook.Point, HookFailureMode.FailOpen, CheckHost.HookDeadline), input, cancellationToken).ConfigureAwait(false);
        var took = $"{time.GetElapsedTime(began).TotalMilliseconds:0.#} ms";
        var call = $"{input.Context.Method} {input.Context.RouteId}, {input.ContentType}";
        if (outcome.Skipped.FirstOrDefault(f => f.PluginId == id) is { } failure)
        {
            return Said(failure.Detail, CheckResult.Fail(subject, $"the call ({call}) failed after {took}: {failure.Kind}: {failure.Detail}"));
        }

        return outcome switch
        {
            HookOutcome.ShortCircuited s => CheckResult.Pass(subject, $"answered in {took} ({call}): short-circuited with {s.StatusCode}"),
            HookOutcome.Continued c when !c.Body.Span.SequenceEqual(input.Body.Span) => CheckResult.Pass(subject, $"answered in {took} ({call}): body replaced ({c.Body.Length} bytes, {c.ContentType})"),
            HookOutcome.Continued c => CheckResult.Pass(subject, $"answered in {took} ({call}): continued{HeadersSet(input, c)}"),
            HookOutcome.Failed f => CheckResult.Fail(subject, $"the call ({call}) failed after {took}: {f.Failure.Kind}: {f.Failure.Detail}"),
            _ => CheckResult.Fail(subject, $"an outcome the check does not know: {outcome}"),
        };
    }

    /// <summary>A route with parameters or a catch-all: the check cannot guess a path to call.</summary>
    private static bool NeedsParameters(ManifestRoute route) =>
        route.Path.Contains('{', StringComparison.Ordinal) || route.Path.Contains('*', StringComparison.Ordinal);

    private async Task<CheckResult> RouteAsync(CheckHost host, string id, ManifestRoute route, CancellationToken cancellationToken)
    {
        var subject = new CheckSubject("route", $"{route.Method} {route.Path}");
        if (route.Method is not ("GET" or "*"))
        {
            return CheckResult.Skip(subject, $"not called: only GET routes are, since another method may change the plugin's state; call it with --call {RouteCall.Syntax}");
        }

        if (NeedsParameters(route))
        {
            return CheckResult.Skip(subject, $"not called: it needs parameters the check cannot guess; call it with --call {RouteCall.Syntax}");
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/plugins/{Uri.EscapeDataString(id)}{route.Path}");
        return (await SendAsync(host, subject, request, cancellationToken).ConfigureAwait(false)).Result;
    }

    /// <summary>A call the author asked for: judged as a route the check calls by itself, and a 404 or 405 is said, since the manifest may not take it.</summary>
    private async Task<CheckResult> CallAsync(CheckHost host, string id, RouteCall call, CancellationToken cancellationToken)
    {
        var subject = new CheckSubject("call", call.Target);
        using var request = new HttpRequestMessage(new HttpMethod(call.Method), $"/plugins/{Uri.EscapeDataString(id)}{call.PathAndQuery}");
        var body = call.BodyText is { } text ? System.Text.Encoding.UTF8.GetBytes(text)
            : call.BodyFile is { } file ? await File.ReadAllBytesAsync(file, cancellationToken).ConfigureAwait(false)
            : null;
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(call.ContentType);
        }

        var (result, status) = await SendAsync(host, subject, request, cancellationToken).ConfigureAwait(false);
        return result.Verdict == CheckVerdict.Passed && status is 404 or 405
            ? CheckResult.Warn(subject, $"{result.Detail}: no route of its manifest takes {call.Target}, or the plugin answered so itself")
            : result;
    }

    /// <summary>Sends one route request through the host's forwarder: a 5xx or the host's X-Plugin-Error fails.</summary>
    private async Task<(CheckResult Result, int Status)> SendAsync(CheckHost host, CheckSubject subject, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var began = time.GetTimestamp();
        using var answer = await host.Client.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var body = await answer.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        var took = $"{time.GetElapsedTime(began).TotalMilliseconds:0.#} ms";
        var status = (int)answer.StatusCode;
        if (answer.Headers.TryGetValues("X-Plugin-Error", out var error))
        {
            return (CheckResult.Fail(subject, $"{status} after {took}, the host's answer for a plugin that failed ({string.Join(", ", error)}): {ProblemText(body)}"), status);
        }

        return (status >= 500
            ? CheckResult.Fail(subject, $"the plugin answered {status} after {took}: {Shorten(body)}")
            : CheckResult.Pass(subject, $"{status} in {took}, {answer.Content.Headers.ContentLength ?? body.Length} bytes{(answer.Content.Headers.ContentType is { } type ? $" of {type.MediaType}" : string.Empty)}"), status);
    }

    private static CheckResult Memory(CheckHost host, string id)
    {
        var snapshot = host.Catalog.Find(id)!.Supervisor!.Snapshot;
        if (snapshot.MemoryBytes <= 0 || snapshot.MemoryLimitBytes <= 0)
        {
            return CheckResult.Skip("memory", "not measured yet");
        }

        const double MiB = 1024 * 1024;
        var share = (double)snapshot.MemoryBytes / snapshot.MemoryLimitBytes;
        var figures = $"{snapshot.MemoryBytes / MiB:0.#} MiB after the check's calls, {share * 100:0} % of its limit of {snapshot.MemoryLimitBytes / MiB:0} MiB ({Measured(snapshot)})";
        return AgainstLimit("memory", share, figures, "at the limit a host kills it; raise limits.memoryMiB in its manifest or make it smaller");
    }

    private static CheckResult Threads(CheckHost host, string id)
    {
        var snapshot = host.Catalog.Find(id)!.Supervisor!.Snapshot;
        if (snapshot.Threads <= 0)
        {
            return CheckResult.Skip("threads", "not counted yet");
        }

        if (snapshot.ThreadLimit <= 0)
        {
            return CheckResult.Pass("threads", $"{snapshot.Threads} after the check's calls ({Measured(snapshot)}), with no limit");
        }

        var share = (double)snapshot.Threads / snapshot.ThreadLimit;
        var figures = $"{snapshot.Threads} after the check's calls, {share * 100:0} % of its limit of {snapshot.ThreadLimit} ({Measured(snapshot)})";
        return AgainstLimit("threads", share, figures, "past the limit a host kills it; raise limits.maxThreads in its manifest or start fewer");
    }

    /// <summary>What a host holds to the limits: the worker's group, and the helpers it started in sessions of their own, which an author may not expect to count.</summary>
    private static string Measured(WorkerSnapshot snapshot) => snapshot.Helpers switch
    {
        0 => "its whole process group",
        1 => "its whole process group, 1 helper in a session of its own included",
        var n => $"its whole process group, {n} helpers in sessions of their own included",
    };

    /// <summary>A use of a limit: a warning from 80 % of it on, which leaves a plugin's author room before a host kills it.</summary>
    private static CheckResult AgainstLimit(string subject, double share, string figures, string fix) =>
        share < 0.8 ? CheckResult.Pass(subject, figures) : CheckResult.Warn(subject, $"{figures}: {fix}");

    private CheckResult Said(string text, CheckResult result)
    {
        _said.Add(text);
        return result;
    }

    private static string HeadersSet(HookInput input, HookOutcome.Continued outcome)
    {
        var set = outcome.Headers.Where(h => !input.Headers.TryGetValue(h.Key, out var was) || was != h.Value).Select(h => h.Key).ToList();
        return set.Count > 0 ? $", headers set: {string.Join(", ", set)}" : string.Empty;
    }

    private static string Tail(IReadOnlyList<string>? lines) =>
        lines is { Count: > 0 } ? $"; its last output: {string.Join(" | ", lines.TakeLast(5))}" : string.Empty;

    private static string ProblemText(string body)
    {
        try
        {
            using var problem = JsonDocument.Parse(body);
            var root = problem.RootElement;
            var detail = root.TryGetProperty("detail", out var d) ? d.GetString() : root.TryGetProperty("title", out var t) ? t.GetString() : null;
            var errorsText = root.TryGetProperty("errors", out var errors) ? " " + errors.GetRawText() : string.Empty;
            return (detail ?? Shorten(body)) + errorsText;
        }
        catch (JsonException)
        {
            return Shorten(body);
        }
    }

    private static string Shorten(string text) => text.Length <= 300 ? text.Trim() : text[..300].Trim() + "…";
}
