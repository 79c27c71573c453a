using Microsoft.Extensions.Logging;
using System.Text.Json.Nodes;
using GrpcPlugins.Sdk;

namespace TestPlugin;

/// <summary>A real Sdk plugin whose hooks and routes misbehave as its mode says.</summary>
internal sealed class ModePlugin(string id, string mode, string[] args) : IPlugin
{
    private const int PatternPeriod = 251;

    private readonly List<string> _configured = [];
    private readonly Dictionary<string, string> _lastConfigured = new(StringComparer.Ordinal);
    private int _calls;
    private long _bytesWritten;

    public string Id => id;

    public string Version => Array.IndexOf(args, "--version") is var i && i >= 0 && i + 1 < args.Length ? args[i + 1] : "1.0.0";

    public void Configure(PluginBuilder plugin)
    {
        if (mode == "throw-in-configure")
        {
            throw new InvalidOperationException("Configure failed on purpose (throw-in-configure mode)");
        }

        plugin.OnHook("request", async (call, ct) =>
        {
            var n = Interlocked.Increment(ref _calls);
            switch (mode)
            {
                case "exit-after" when n >= int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture):
                    Environment.Exit(9);
                    break;
                case "hang-in-hook":
                    // Ignores the token on purpose: the host's deadline must still hold.
                    await Task.Delay(Timeout.Infinite, CancellationToken.None);
                    break;
                case "hang-first" when n <= int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture):
                    // A handler stuck for a while (its health service answers throughout), then fine again.
                    await Task.Delay(Timeout.Infinite, CancellationToken.None);
                    break;
                case "slow-hook":
                    await Task.Delay(int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture), ct);
                    break;
                case "error-in-hook":
                    throw new InvalidOperationException("error-in-hook mode");
                case "trace":
                    // The Sdk's span is the current one; its parent is the host's.
                    return HookResult.Modify($"{System.Diagnostics.Activity.Current?.TraceId}|{System.Diagnostics.Activity.Current?.ParentSpanId}");
                case "invalid-short-circuit":
                    return UncheckedAnswers.ShortCircuit(101, "not a final status");
                case "short-circuit":
                    return HookResult.ShortCircuit(429, $"{id} says slow down");
                case "set-headers":
                    // The host's credentials are not the plugin's to set; the other two are.
                    return HookResult.SetHeaders(new Dictionary<string, string> { ["x-tagged-by"] = id, ["x-remove-me"] = "", ["authorization"] = "Bearer forged" });
            }

            return HookResult.Modify(call.BodyText + $"|{id}");
        });

        if (Array.IndexOf(args, "--also-hook") is var also && also >= 0 && also + 1 < args.Length)
        {
            plugin.OnHook(args[also + 1], call => HookResult.Modify(call.BodyText + $"|{id}"));
        }

        // A headers-only hook for a few route ids: it says how much body it was sent (none, if
        // the host honours the match), or, as "--match-hook-replaces", wrongly replaces the body.
        foreach (var flag in new[] { "--match-hook", "--match-hook-replaces" })
        {
            if (Array.IndexOf(args, flag) is var at && at >= 0 && at + 2 < args.Length)
            {
                var replaces = flag.EndsWith("replaces", StringComparison.Ordinal);
                plugin.OnHook(args[at + 1], new HookMatch { RouteIds = [args[at + 2]], HeadersOnly = true }, call => replaces
                    ? HookResult.Modify("a body it never saw")
                    : HookResult.SetHeaders(new Dictionary<string, string> { ["x-body-bytes-seen"] = call.Body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) }));
            }
        }

        // A hook for one method that says which request line (and, on the way out, status) it was called for.
        if (Array.IndexOf(args, "--request-line-hook") is var line && line >= 0 && line + 2 < args.Length)
        {
            plugin.OnHook(args[line + 1], new HookMatch { Methods = [args[line + 2]], HeadersOnly = true }, call => HookResult.SetHeaders(new Dictionary<string, string>
            {
                ["x-request-line"] = $"{call.Context.Direction} {call.Context.Method} {call.Context.Path}{call.Context.Query} {call.Context.StatusCode} user={call.Context.User}",
            }));
        }

        // A page whose script tries what a hostile plugin's would: the admin API, with the admin's cookie.
        plugin.MapGet("/page", ctx =>
        {
            ctx.Response.ContentType = "text/html; charset=utf-8";
            return ctx.Response.WriteAsync("""
                <!doctype html><title>loading</title>
                <script>
                fetch("/admin/api/plugins", { credentials: "include" })
                  .then(r => r.text().then(t => { document.title = "read " + r.status + ": " + t.length + " chars"; }))
                  .catch(e => { document.title = "refused: " + e.name; });
                </script>
                """);
        });

        plugin.MapGet("/whoami", ctx => ctx.Response.WriteJsonAsync(new JsonObject { ["id"] = id, ["pid"] = Environment.ProcessId, ["mode"] = mode, ["version"] = Version }.ToJsonString()));

        plugin.MapGet("/items/{id}/parts/{part}", ctx => ctx.Response.WriteJsonAsync(new JsonObject { ["id"] = ctx.Request.RouteValues["id"], ["part"] = ctx.Request.RouteValues["part"] }.ToJsonString()));
        plugin.MapGet("/items/new/parts/{part}", ctx => ctx.Response.WriteAsync("the literal route, for " + ctx.Request.RouteValues["part"]));

        plugin.MapGet("/settings", async ctx => await ctx.Response.WriteJsonAsync(await ctx.Host.GetSettingsJsonAsync(cancellationToken: ctx.Aborted)));

        plugin.MapPost("/settings", async ctx =>
        {
            using var reader = new StreamReader(ctx.Request.Body);
            try
            {
                var revision = await ctx.Host.PutSettingsJsonAsync(await reader.ReadToEndAsync(ctx.Aborted), ctx.Request.QueryValue("tenant"), ctx.Aborted);
                await ctx.Response.WriteAsync($"revision {revision}");
            }
            catch (Grpc.Core.RpcException ex)
            {
                ctx.Response.StatusCode = 400;
                var pushback = ex.Trailers.GetValue("grpc-retry-pushback-ms");
                await ctx.Response.WriteAsync($"{ex.StatusCode}: {ex.Status.Detail}" + (pushback is null ? string.Empty : $" [pushback {pushback} ms]"));
            }
        });

        plugin.MapPost("/settings-raw", async ctx =>
        {
            // The same write without the Sdk: one call, no retry, and what the host answered.
            using var reader = new StreamReader(ctx.Request.Body);
            using var channel = GrpcPlugins.Protocol.UnixSocketChannel.Create(Environment.GetEnvironmentVariable("PLUGIN_HOST_ADDRESS")!["unix://".Length..]);
            var client = new GrpcPlugins.Protocol.V1.PluginHost.PluginHostClient(channel);
            var headers = new Grpc.Core.Metadata { { "plugin-token", Environment.GetEnvironmentVariable("PLUGIN_TOKEN")! } };
            try
            {
                var reply = await client.PutSettingsAsync(new GrpcPlugins.Protocol.V1.PutSettingsRequest { SettingsJson = await reader.ReadToEndAsync(ctx.Aborted) }, headers, cancellationToken: ctx.Aborted);
                await ctx.Response.WriteAsync($"revision {reply.Revision}");
            }
            catch (Grpc.Core.RpcException ex)
            {
                ctx.Response.StatusCode = 400;
                await ctx.Response.WriteAsync($"{ex.StatusCode}: {ex.Status.Detail} [pushback {ex.Trailers.GetValue("grpc-retry-pushback-ms")} ms]");
            }
        });

        plugin.MapPost("/impersonate", async ctx =>
        {
            // What a hostile plugin can try: another worker's token, read from its environment (same user), used as its own.
            var victim = await EnvironmentOfAsync(ctx.Request.QueryValue("pid"), ctx.Aborted);
            var stolen = victim("PLUGIN_TOKEN");
            await ctx.Response.WriteAsync($"worker: {await TalksToAsync(Path.Combine(victim("PLUGIN_SOCKET_DIR"), "plugin.sock"), ctx.Aborted)}; ");
            using var channel = GrpcPlugins.Protocol.UnixSocketChannel.Create(Environment.GetEnvironmentVariable("PLUGIN_HOST_ADDRESS")!["unix://".Length..]);
            var client = new GrpcPlugins.Protocol.V1.PluginHost.PluginHostClient(channel);
            try
            {
                var reply = await client.GetSettingsAsync(new GrpcPlugins.Protocol.V1.GetSettingsRequest(), new Grpc.Core.Metadata { { "plugin-token", stolen } }, cancellationToken: ctx.Aborted);
                await ctx.Response.WriteAsync("read: " + reply.SettingsJson);
            }
            catch (Grpc.Core.RpcException ex)
            {
                await ctx.Response.WriteAsync($"{ex.StatusCode}: {ex.Status.Detail}");
            }
        });

        plugin.MapPost("/call-worker", async ctx =>
        {
            // Beyond the opening: a whole call of the victim's Describe with its token, over its own socket,
            // for a plugin whose server answers any connection's opening and can refuse only its calls.
            var victim = await EnvironmentOfAsync(ctx.Request.QueryValue("pid"), ctx.Aborted);
            using var channel = GrpcPlugins.Protocol.UnixSocketChannel.Create(Path.Combine(victim("PLUGIN_SOCKET_DIR"), "plugin.sock"));
            var bytes = Grpc.Core.Marshallers.Create<byte[]>(b => b, b => b);
            var describe = new Grpc.Core.Method<byte[], byte[]>(Grpc.Core.MethodType.Unary, "plugin.v1.Plugin", "Describe", bytes, bytes);
            try
            {
                var answer = await channel.CreateCallInvoker().AsyncUnaryCall(describe, null, new Grpc.Core.CallOptions(new Grpc.Core.Metadata { { "plugin-token", victim("PLUGIN_TOKEN") } }, cancellationToken: ctx.Aborted), []);
                await ctx.Response.WriteAsync($"answered: {answer.Length} bytes");
            }
            catch (Grpc.Core.RpcException ex)
            {
                await ctx.Response.WriteAsync($"refused: {ex.StatusCode}: {ex.Status.Detail}");
            }
        });

        // Another process's environment, as any process of the same user may read it: a variable's value by its name.
        static async Task<Func<string, string>> EnvironmentOfAsync(string? pid, CancellationToken cancellationToken)
        {
            var environment = await File.ReadAllBytesAsync($"/proc/{pid}/environ", cancellationToken);
            return name => GrpcPlugins.Supervisor.Processes.ProcessEnvironment.Value(environment, name) ?? throw new InvalidOperationException($"process {pid} has no {name}");
        }

        // Whether a worker's socket answers an HTTP/2 client's opening (its SETTINGS) or closes on it.
        static async Task<string> TalksToAsync(string socketPath, CancellationToken cancellationToken)
        {
            using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
            await socket.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(socketPath), cancellationToken);
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            wait.CancelAfter(TimeSpan.FromSeconds(5));
            var buffer = new byte[64];
            try
            {
                // A refused connection may already be closed when the opening is sent (a broken pipe).
                await socket.SendAsync("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray().Concat(new byte[] { 0, 0, 0, 4, 0, 0, 0, 0, 0 }).ToArray(), cancellationToken);
                return await socket.ReceiveAsync(buffer, wait.Token) > 0 ? "answered" : "refused";
            }
            catch (System.Net.Sockets.SocketException)
            {
                return "refused";
            }
        }

        plugin.MapPost("/settings-storm", async ctx =>
        {
            // Many writers at once for a while: a buggy plugin keeping per-request state in its settings.
            var writers = int.Parse(ctx.Request.QueryValue("writers") ?? "32", System.Globalization.CultureInfo.InvariantCulture);
            var until = DateTime.UtcNow.AddMilliseconds(int.Parse(ctx.Request.QueryValue("ms") ?? "2000", System.Globalization.CultureInfo.InvariantCulture));
            long written = 0;
            long refused = 0;
            await Task.WhenAll(Enumerable.Range(0, writers).Select(async i =>
            {
                while (DateTime.UtcNow < until)
                {
                    try
                    {
                        await ctx.Host.PutSettingsJsonAsync($$"""{"greeting":"writer {{i}}"}""", null, ctx.Aborted);
                        Interlocked.Increment(ref written);
                    }
                    catch (Grpc.Core.RpcException)
                    {
                        Interlocked.Increment(ref refused);
                    }
                }
            }));
            await ctx.Response.WriteAsync($"{written} written, {refused} refused");
        });

        plugin.MapPost("/hold-host-connections", async ctx =>
        {
            // Connections to the host's PluginHost socket, held as a plugin leaking a channel per call holds them.
            var count = int.Parse(ctx.Request.QueryValue("n") ?? "32", System.Globalization.CultureInfo.InvariantCulture);
            var path = Environment.GetEnvironmentVariable("PLUGIN_HOST_ADDRESS")!["unix://".Length..];
            var sockets = new List<System.Net.Sockets.Socket>();
            try
            {
                for (var i = 0; i < count; i++)
                {
                    var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
                    sockets.Add(socket);
                    await socket.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(path), ctx.Aborted);
                }

                await Task.Delay(1000, ctx.Aborted);
                var closed = sockets.Count(s => s.Poll(0, System.Net.Sockets.SelectMode.SelectRead) && s.Available == 0);
                await ctx.Response.WriteAsync($"{sockets.Count - closed} open, {closed} closed");
            }
            finally
            {
                sockets.ForEach(s => s.Dispose());
            }
        });

        plugin.MapPost("/upload", async ctx =>
        {
            // Counts and hashes the body as it arrives, reporting how many reads it took.
            var buffer = new byte[81920];
            using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
            long total = 0;
            var reads = 0;
            int read;
            while ((read = await ctx.Request.Body.ReadAsync(buffer, ctx.Aborted)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                total += read;
                reads++;
            }

            // How the body came: whole in the call, streamed in its frames, or read from the host.
            await ctx.Response.WriteJsonAsync(new JsonObject { ["bytes"] = total, ["reads"] = reads, ["sha256"] = Convert.ToHexString(hash.GetHashAndReset()), ["transport"] = ctx.Request.Body.GetType().Name }.ToJsonString());
        });

        plugin.MapPost("/read-with-a-pause", async ctx =>
        {
            // Reads 64 KiB, works on it for ?ms= milliseconds, then reads the rest and counts it all.
            var buffer = new byte[64 * 1024];
            long total = await ctx.Request.Body.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, ctx.Aborted);
            await Task.Delay(int.Parse(ctx.Request.QueryValue("ms") ?? "0", System.Globalization.CultureInfo.InvariantCulture), ctx.Aborted);
            int read;
            while ((read = await ctx.Request.Body.ReadAsync(buffer, ctx.Aborted)) > 0)
            {
                total += read;
            }

            await ctx.Response.WriteAsync(total.ToString(System.Globalization.CultureInfo.InvariantCulture), ctx.Aborted);
        });

        plugin.MapPost("/read-some", async ctx =>
        {
            // Takes ?bytes= of the body and answers without reading the rest, as any HTTP server may.
            var buffer = new byte[int.Parse(ctx.Request.QueryValue("bytes") ?? "0", System.Globalization.CultureInfo.InvariantCulture)];
            var read = await ctx.Request.Body.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, ctx.Aborted);
            await ctx.Response.WriteAsync(read.ToString(System.Globalization.CultureInfo.InvariantCulture), ctx.Aborted);
        });

        plugin.MapGet("/bytes", async ctx =>
        {
            // ?n= bytes of a known pattern, in writes of ?write= bytes; /bytes-written says how far it got;
            var total = long.Parse(ctx.Request.QueryValue("n") ?? "0", System.Globalization.CultureInfo.InvariantCulture);
            var size = int.Parse(ctx.Request.QueryValue("write") ?? "65536", System.Globalization.CultureInfo.InvariantCulture);
            // One period longer than a write, so every write is a slice of it and costs no per-byte work.
            var pattern = new byte[size + PatternPeriod];
            for (var i = 0; i < pattern.Length; i++)
            {
                pattern[i] = BytePattern(i);
            }

            ctx.Response.ContentType = "application/octet-stream";
            // ?declare= a length to announce, true or not.
            if (ctx.Request.QueryValue("declare") is { } declared)
            {
                ctx.Response.ContentLength = long.Parse(declared, System.Globalization.CultureInfo.InvariantCulture);
            }

            Interlocked.Exchange(ref _bytesWritten, 0);
            for (long sent = 0; sent < total;)
            {
                var count = (int)Math.Min(size, total - sent);
                await ctx.Response.WriteAsync(pattern.AsMemory((int)(sent % PatternPeriod), count), ctx.Aborted);
                sent += count;
                Interlocked.Exchange(ref _bytesWritten, sent);
            }
        });

        plugin.MapPost("/read-then-wait", async ctx =>
        {
            // Takes 1 MiB of the body, then reads no more until the call ends.
            var buffer = new byte[1024 * 1024];
            await ctx.Request.Body.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, ctx.Aborted);
            await Task.Delay(Timeout.Infinite, ctx.Aborted);
        });

        plugin.MapGet("/bytes-written", ctx => ctx.Response.WriteAsync(Interlocked.Read(ref _bytesWritten).ToString(System.Globalization.CultureInfo.InvariantCulture)));

        plugin.MapGet("/events", async ctx =>
        {
            // Server-sent events: the second waits until the client proves it saw the first.
            ctx.Response.ContentType = "text/event-stream";
            await ctx.Response.WriteAsync("data: first\n\n", ctx.Aborted);
            var gate = Path.Combine(Path.GetTempPath(), ctx.Request.Query.TrimStart('?').Replace("gate=", "", StringComparison.Ordinal));
            for (var i = 0; i < 500 && !File.Exists(gate); i++)
            {
                await Task.Delay(20, ctx.Aborted);
            }

            await ctx.Response.WriteAsync("data: second\n\n", ctx.Aborted);
        });

        WebSocketRoutes.Map(plugin);

        plugin.MapRoute("*", "/echo/*", async ctx =>
        {
            ctx.Response.AddHeader("set-cookie", "session=stolen");
            ctx.Response.AddHeader("clear-site-data", "\"cookies\", \"storage\"");
            ctx.Response.AddHeader("service-worker-allowed", "/");
            ctx.Response.AddHeader("x-plugin-header", "ok");
            var headers = new JsonObject();
            foreach (var (name, value) in ctx.Request.Headers)
            {
                headers[name] = value;
            }

            await ctx.Response.WriteJsonAsync(new JsonObject
            {
                ["method"] = ctx.Request.Method,
                ["path"] = ctx.Request.Path,
                ["query"] = ctx.Request.Query,
                ["user"] = ctx.Request.User,
                ["tenant"] = ctx.Request.TenantId,
                ["headers"] = headers,
            }.ToJsonString());
        });

        // A note kept in the plugin's data directory, to show what outlives its restarts.
        var note = plugin.DataDirectory is { } data ? Path.Combine(data, "note.txt") : null;
        plugin.MapPost("/data/note", async ctx =>
        {
            using var reader = new StreamReader(ctx.Request.Body);
            await File.WriteAllTextAsync(note!, await reader.ReadToEndAsync(ctx.Aborted), ctx.Aborted);
            ctx.Response.StatusCode = 204;
        });
        plugin.MapGet("/data/limit", ctx => ctx.Response.WriteAsync(plugin.DataLimitBytes?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none", ctx.Aborted));
        plugin.MapGet("/data/note", async ctx =>
        {
            if (note is null || !File.Exists(note))
            {
                ctx.Response.StatusCode = 404;
                return;
            }

            await ctx.Response.WriteAsync(await File.ReadAllTextAsync(note, ctx.Aborted), ctx.Aborted);
        });

        plugin.MapGet("/slow", async ctx =>
        {
            await Task.Delay(TimeSpan.FromSeconds(30), ctx.Aborted);
            await ctx.Response.WriteAsync("too late");
        });

        plugin.MapGet("/throw", _ => throw new InvalidOperationException("route failed on purpose"));

        // What a print left in a loop does: lines on stdout, past the handshake, as fast as they go.
        plugin.MapPost("/print", async ctx =>
        {
            var lines = int.Parse(ctx.Request.QueryValue("lines") ?? "1", System.Globalization.CultureInfo.InvariantCulture);
            var stdout = Console.OpenStandardOutput();
            for (var i = 0; i < lines; i++)
            {
                stdout.Write(System.Text.Encoding.ASCII.GetBytes($"debug: row {i} of {lines}\n"));
            }

            stdout.Flush();
            await ctx.Response.WriteAsync($"printed {lines}");
        });

        plugin.MapGet("/log", ctx =>
        {
            var logger = plugin.Logger;
            logger.Log(ctx.Request.QueryValue("level") == "warn" ? LogLevel.Warning : LogLevel.Information, "logged on request: {Message}", ctx.Request.QueryValue("message"));
            return ctx.Response.WriteAsync("logged");
        });

        // Answers the host must not pass on as they are: what a buggy or hostile plugin might send.
        plugin.MapGet("/bad-answer/{kind}", async ctx =>
        {
            switch (ctx.Request.RouteValues["kind"])
            {
                case "header-injection":
                    UncheckedAnswers.AddHeader(ctx.Response, "x-note", "a\r\nset-cookie: stolen=1");
                    break;
                case "header-name":
                    UncheckedAnswers.AddHeader(ctx.Response, "bad name:", "x");
                    break;
                case "informational":
                    UncheckedAnswers.SetStatus(ctx.Response, 101);
                    break;
                case "length-words":
                    UncheckedAnswers.AddHeader(ctx.Response, "content-length", "four");
                    break;
                case "length-twice":
                    UncheckedAnswers.AddHeader(ctx.Response, "content-length", "4");
                    UncheckedAnswers.AddHeader(ctx.Response, "content-length", "5");
                    break;
                case "length-same-twice":
                    UncheckedAnswers.AddHeader(ctx.Response, "content-length", "4");
                    UncheckedAnswers.AddHeader(ctx.Response, "Content-Length", "4");
                    break;
                case "no-content-with-body":
                    ctx.Response.StatusCode = 204;
                    break;
                case "not-modified-with-body":
                    ctx.Response.StatusCode = 304;
                    break;
            }

            await ctx.Response.WriteAsync("body");
        });

        plugin.MapGet("/abort", _ =>
        {
            // A crash inside native code: no .NET exception handler can catch it.
            NativeCrash.Abort();
            return Task.CompletedTask;
        });

        plugin.MapGet("/crash", _ =>
        {
            Environment.Exit(11);
            return Task.CompletedTask;
        });

        // describe-schema SCHEMA: publishes SCHEMA in Describe instead of its own, as a plugin with no schema in its manifest may.
        plugin.UseSettings(
            mode == "describe-schema" ? args[1] : """
            {
              "type": "object",
              "properties": {
                "greeting": { "type": "string", "maxLength": 20 },
                "limit": { "type": "integer", "minimum": 1 },
                "apiKey": { "type": "string", "writeOnly": true }
              },
              "additionalProperties": false
            }
            """,
            async (settings, _) =>
            {
                lock (_configured)
                {
                    _configured.Add(settings.Removed ? $"-{settings.TenantId}" : settings.TenantId);
                    if (settings.Removed)
                    {
                        _lastConfigured.Remove(settings.TenantId);
                    }
                    else
                    {
                        _lastConfigured[settings.TenantId] = settings.Json;
                    }
                }

                if (mode == "hog-in-configure")
                {
                    // Loads past its memory limit in Configure (a model, a pool sized by its settings) and
                    // takes its time there: the host's deadline for it is the start timeout.
                    Modes.HogMemory(1024L * 1024 * 1024);
                    await Task.Delay(Timeout.Infinite, CancellationToken.None);
                }

                if (settings.Json.Contains("\"pause-me\"", StringComparison.Ordinal))
                {
                    // A slow Configure that ends: a start that takes a while, for what happens meanwhile.
                    await Task.Delay(2000, CancellationToken.None);
                }

                if (settings.Json.Contains("\"hang-me\"", StringComparison.Ordinal))
                {
                    // Ignores the token on purpose: the host's deadline must still hold.
                    await Task.Delay(Timeout.Infinite, CancellationToken.None);
                }

                if (settings.Json.Contains("\"exit-me\"", StringComparison.Ordinal))
                {
                    Environment.Exit(9);
                }

                if (settings.Removed && settings.TenantId == "refuses-removal")
                {
                    return [new SettingError(string.Empty, "this plugin refuses to forget tenant 'refuses-removal'")];
                }

                IReadOnlyList<SettingError> errors = settings.Json.Contains("\"reject-me\"", StringComparison.Ordinal) ? [new SettingError("/greeting", "this plugin refuses 'reject-me'")] : [];
                return errors;
            });

        plugin.MapGet("/last-configured", ctx =>
        {
            lock (_configured)
            {
                // ?tenant=T for a tenant's; "null" when the plugin holds none for it.
                var tenant = ctx.Request.QueryValue("tenant");
                return ctx.Response.WriteJsonAsync(tenant is null ? _lastConfigured.GetValueOrDefault(string.Empty, "{}") : _lastConfigured.GetValueOrDefault(tenant, "null"));
            }
        });

        plugin.MapGet("/configured", ctx =>
        {
            lock (_configured)
            {
                return ctx.Response.WriteJsonAsync(new JsonArray([.. _configured.Select(t => JsonValue.Create(t))]).ToJsonString());
            }
        });

        plugin.RequirePermission("settings.read");
    }

    /// <summary>The byte at <paramref name="offset"/> of a /bytes answer (a prime period, so a shifted or repeated chunk shows).</summary>
    internal static byte BytePattern(long offset) => (byte)(offset % PatternPeriod);
}
