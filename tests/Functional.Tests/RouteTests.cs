using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Supervisor.Supervision;
using Microsoft.Extensions.DependencyInjection;

namespace GrpcPlugins.Functional.Tests;

/// <summary>Plugin-owned routes: streamed both ways, with policies, statuses and default-deny auth.</summary>
public sealed class RouteTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)] // what had arrived when the call began, then the rest
    public async Task LargeUpload_ReachesThePluginInChunks_InOrder(bool declared)
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);
        var body = new byte[20 * 1024 * 1024];
        Random.Shared.NextBytes(body);

        var response = await host.Admin.PostAsync("/plugins/t/upload", new StreamContent(declared ? new MemoryStream(body) : new UnknownLengthStream(body)));

        response.EnsureSuccessStatusCode();
        var counted = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(body.Length, counted.GetProperty("bytes").GetInt64());
        Assert.Equal(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(body)), counted.GetProperty("sha256").GetString());
        Assert.True(counted.GetProperty("reads").GetInt32() > 100, $"only {counted.GetProperty("reads")} reads");
    }

    [Theory]
    [InlineData(0, true, "MemoryStream")]
    [InlineData(3000, true, "MemoryStream")]
    [InlineData(64 * 1024, true, "MemoryStream")]
    [InlineData(64 * 1024 + 1, true, "PulledBodyStream")]
    [InlineData(300_000, false, "PulledBodyStream")]
    public async Task SmallAndBoundaryBodies_ReachThePluginWhole_WholeOrReadFromTheHost(int size, bool declared, string transport)
    {
        // Up to 64 KiB with a declared length travels in one HandleHttpBuffered message;
        // above it, or without a length and not yet all here, the Sdk plugin reads it from
        // the host (PluginHost.ReadHttpBody). Both must agree.
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);
        var body = new byte[size];
        Random.Shared.NextBytes(body);
        HttpContent content = declared ? new ByteArrayContent(body) : new StreamContent(new UnknownLengthStream(body));

        var response = await host.Admin.PostAsync("/plugins/t/upload", content);

        response.EnsureSuccessStatusCode();
        var counted = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(size, counted.GetProperty("bytes").GetInt64());
        Assert.Equal(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(body)), counted.GetProperty("sha256").GetString());
        Assert.Equal(transport, counted.GetProperty("transport").GetString());
    }

    [Fact]
    public async Task AnswerThatArrivesWhole_IsSentWithItsContentLength()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);

        using var response = await host.Admin.GetAsync("/plugins/t/echo/a", HttpCompletionOption.ResponseHeadersRead);
        var body = await response.Content.ReadAsByteArrayAsync();

        // The handler answers without waiting, so head, body and end reach the host together.
        Assert.Equal(body.Length, response.Content.Headers.ContentLength);
        Assert.NotEqual(true, response.Headers.TransferEncodingChunked);
    }

    [Fact]
    public async Task SmallBodyWithoutALength_ThatHasArrivedWhole_TravelsWholeInTheCall()
    {
        // A client posting chunked JSON: headers and the whole body in one write.
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);

        var answer = await RawExchangeAsync(host, "/plugins/t/upload", "Transfer-Encoding: chunked", "5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 200", answer, StringComparison.Ordinal);
        Assert.Contains("\"bytes\":8", answer, StringComparison.Ordinal);
        Assert.Contains("\"transport\":\"MemoryStream\"", answer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BodyWithoutALength_StillArriving_IsNotWaitedFor_BeforeThePluginCanAnswer()
    {
        // The client sends 5 bytes of a chunked body and waits for the answer before it sends
        // more (an interactive upload): the plugin, which answers after 5 bytes, must get them.
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);

        var answer = await RawExchangeAsync(host, "/plugins/t/read-some?bytes=5", "Transfer-Encoding: chunked", "5\r\nhello\r\n");

        Assert.StartsWith("HTTP/1.1 200", answer, StringComparison.Ordinal);
        // "5", with a length or in one chunk.
        Assert.Matches(@"\r\n\r\n(5|1\r\n5\r\n0\r\n\r\n)$", answer);
    }

    /// <summary>Sends a request's head and <paramref name="body"/> in one write and reads one whole answer.</summary>
    private static async Task<string> RawExchangeAsync(TestHost host, string target, string framing, string body)
    {
        var address = host.Client.BaseAddress!;
        using var client = new TcpClient();
        await client.ConnectAsync(address.Host, address.Port);
        await using var stream = client.GetStream();
        var request = $"POST {target} HTTP/1.1\r\nHost: {address.Authority}\r\nAuthorization: Bearer {TestHost.AdminKey}\r\n{framing}\r\n\r\n{body}";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        var answer = new StringBuilder();
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (!IsWhole(answer.ToString()))
        {
            var read = await stream.ReadAsync(buffer, timeout.Token);
            Assert.True(read > 0, $"the connection closed after: {answer}");
            answer.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        return answer.ToString();

        static bool IsWhole(string text)
        {
            var headEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (headEnd < 0)
            {
                return false;
            }

            var length = System.Text.RegularExpressions.Regex.Match(text[..headEnd], @"content-length: *(\d+)", System.Text.RegularExpressions.RegexOptions.IgnoreCase);
            return length.Success
                ? text.Length - headEnd - 4 >= int.Parse(length.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)
                : text.EndsWith("\r\n0\r\n\r\n", StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task HostThatKeepsBodiesInTheRouteCall_StreamsThemThroughHandleHttp()
    {
        await using var host = await TestHost.StartAsync([PluginFolders.Test("t")], o => o.PullRouteBodies = false);
        await host.WaitForStateAsync("t", WorkerState.Ready);

        var response = await host.Admin.PostAsync("/plugins/t/upload", new StreamContent(new UnknownLengthStream(new byte[300_000])));

        var counted = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(300_000, counted.GetProperty("bytes").GetInt64());
        Assert.Equal("RequestBodyStream", counted.GetProperty("transport").GetString());
    }

    [Theory]
    [InlineData(1000)] // sent whole: the host reads it before the call
    [InlineData(1_000_000)] // read by the plugin from the host while the call runs
    public async Task ClientThatSendsLessThanItDeclared_CostsTheHostNothing(int declaredLength)
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        var before = await host.WaitForStateAsync("t", WorkerState.Ready);
        var address = host.Client.BaseAddress!;

        using (var client = new TcpClient())
        {
            await client.ConnectAsync(address.Host, address.Port);
            await using var stream = client.GetStream();
            var request = $"POST /plugins/t/upload HTTP/1.1\r\nHost: {address.Authority}\r\nAuthorization: Bearer {TestHost.AdminKey}\r\nContent-Length: {declaredLength}\r\n\r\nonly-a-few-bytes";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        }

        // The half-sent request is dropped, the plugin keeps serving, and no error was logged (TestHost checks).
        var response = await host.Admin.PostAsync("/plugins/t/upload", new ByteArrayContent(new byte[10]));
        response.EnsureSuccessStatusCode();
        // The same worker, Ready (a health probe that a busy machine delayed may show it Unhealthy for a moment).
        Assert.Equal(before.Pid, (await host.WaitForStateAsync("t", WorkerState.Ready)).Pid);
        await AssertNoBodyOfferedAsync(host);
    }

    [Fact]
    public async Task HandlerThatAnswersBeforeReadingABody_StopsTheHostsCopy_AndTheHostServesOn()
    {
        // 4 MiB with a declared length: read from the host, and the handler takes 100 kB of it.
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        var before = await host.WaitForStateAsync("t", WorkerState.Ready);

        var response = await host.Admin.PostAsync("/plugins/t/read-some?bytes=100000", new ByteArrayContent(new byte[4 * 1024 * 1024]));

        response.EnsureSuccessStatusCode();
        Assert.Equal("100000", await response.Content.ReadAsStringAsync());
        var next = await host.Admin.PostAsync("/plugins/t/upload", new StreamContent(new UnknownLengthStream(new byte[200_000])));
        Assert.Equal(200_000, (await next.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("bytes").GetInt64());
        Assert.Equal(before.Pid, host.Supervisor("t").Snapshot.Pid);
        await AssertNoBodyOfferedAsync(host);
    }

    /// <summary>A body offered to a plugin lives only as long as its route call.</summary>
    private static async Task AssertNoBodyOfferedAsync(TestHost host)
    {
        var bodies = host.Services.GetRequiredService<GrpcPlugins.Host.Routes.PulledBodies>();
        for (var i = 0; i < 50 && bodies.Count > 0; i++)
        {
            await Task.Delay(100);
        }

        Assert.Equal(0, bodies.Count);
    }

    [Fact]
    public async Task ServerSentEvents_ReachTheClientEventByEvent()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);
        var gate = "gpt-gate-" + Guid.NewGuid().ToString("N");

        using var response = await host.Admin.GetAsync($"/plugins/t/events?gate={gate}", HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var first = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10));
        // Only now may the plugin send the second event.
        await File.WriteAllTextAsync(Path.Combine(Path.GetTempPath(), gate), "go");
        await reader.ReadLineAsync();
        var second = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10));
        File.Delete(Path.Combine(Path.GetTempPath(), gate));

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("data: first", first);
        Assert.Equal("data: second", second);
    }

    [Fact]
    public async Task ThePluginsLogger_ReachesTheHostAtItsLevel_AndQueryValuesArriveDecoded()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);

        (await host.Admin.GetAsync("/plugins/t/log?level=warn&message=caf%C3%A9+au+lait")).EnsureSuccessStatusCode();

        var line = await LoggedOnRequestAsync(host);

        Assert.NotNull(line);
        Assert.StartsWith("warn: t", line, StringComparison.Ordinal);
        Assert.Contains("logged on request: caf\u00e9 au lait", line, StringComparison.Ordinal);
    }

    // The plugin's line as the admin sees it among its recent ones, once it has come through.
    private static async Task<string?> LoggedOnRequestAsync(TestHost host)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        string? line = null;
        while (line is null && DateTime.UtcNow < deadline)
        {
            var view = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t");
            line = view.GetProperty("recentLogLines").EnumerateArray().Select(l => l.GetString()).FirstOrDefault(l => l!.Contains("logged on request", StringComparison.Ordinal));
            await Task.Delay(20);
        }

        return line;
    }

    [Fact]
    public async Task APluginsLogLine_WithControlCharacters_ReachesTheHostEscaped_SoItCannotOverwriteOrForgeTheHostsLines()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);

        // A carriage return and a terminal escape: on a console, the host's prefix overwritten, the screen cleared.
        (await host.Admin.GetAsync("/plugins/t/log?level=warn&message=mine%0D%5Bhost%5D+info%3A+admin+key+rotated%1B%5B2J")).EnsureSuccessStatusCode();

        var line = await LoggedOnRequestAsync(host);

        Assert.NotNull(line);
        // The Sdk's logger keeps its own lines whole (the return is a space); the escape is the host's to make harmless.
        Assert.EndsWith("logged on request: mine [host] info: admin key rotated\\x1B[2J", line, StringComparison.Ordinal);
        Assert.DoesNotContain(line, c => char.IsControl(c));
    }

    [Fact]
    public async Task PluginsOwnErrorLog_ReachesTheHostAsOneErrorLine_UnderThePluginsCategory()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        host.ExpectErrors = true; // the route throws on purpose
        await host.WaitForStateAsync("t", WorkerState.Ready);

        var response = await host.Admin.GetAsync("/plugins/t/throw");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        string? line = null;
        while (line is null && DateTime.UtcNow < deadline)
        {
            line = host.ErrorLogs.FirstOrDefault(l => l.StartsWith("Plugin.t[", StringComparison.Ordinal) && l.Contains("Route GET /throw failed", StringComparison.Ordinal));
            await Task.Delay(20);
        }

        // The Sdk writes the entry and its exception as one "fail:" line, which the host re-logs at Error.
        Assert.NotNull(line);
        Assert.Contains("route failed on purpose", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownPlugin_Is404()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));

        var response = await host.Admin.GetAsync("/plugins/nope/x");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("unknown-plugin", response.Headers.GetValues("X-Plugin-Error").Single());
    }

    [Fact]
    public async Task BodyOverTheLimit_Is413_DeclaredOrStreamed()
    {
        var manifest = PluginFolders.Test("t");
        manifest["limits"] = new JsonObject { ["maxRequestBodyBytes"] = 1000 };
        await using var host = await TestHost.StartAsync(manifest);
        await host.WaitForStateAsync("t", WorkerState.Ready);

        var declared = await host.Admin.PostAsync("/plugins/t/upload", new ByteArrayContent(new byte[5000]));
        var streamed = await host.Admin.PostAsync("/plugins/t/upload", new StreamContent(new UnknownLengthStream(new byte[500_000])));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, declared.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, streamed.StatusCode);
        Assert.Equal("too-large", streamed.Headers.GetValues("X-Plugin-Error").Single());
    }

    [Fact]
    public async Task PluginError_Is502_AndCrash_Is502_AndTheResponseSaysWhich()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        host.ExpectErrors = true; // a deliberately broken or refused plugin logs errors
        await host.WaitForStateAsync("t", WorkerState.Ready);

        var error = await host.Admin.GetAsync("/plugins/t/throw");
        var crash = await host.Admin.GetAsync("/plugins/t/crash");

        Assert.Equal(HttpStatusCode.BadGateway, error.StatusCode);
        Assert.Equal("error", error.Headers.GetValues("X-Plugin-Error").Single());
        Assert.Equal(HttpStatusCode.BadGateway, crash.StatusCode);
        Assert.Equal("crashed", crash.Headers.GetValues("X-Plugin-Error").Single());
    }

    [Theory]
    [InlineData("header-injection", "the value of header 'x-note' holds the character U+000D")]
    [InlineData("header-name", "'bad name:' is not a header name")]
    [InlineData("informational", "status 101 is not a final HTTP status")]
    [InlineData("length-words", "content-length 'four' is not a length in bytes")]
    [InlineData("length-twice", "content-length is given 2 different values")]
    public async Task AnAnswerThatIsNotValidHttp_Is502SayingWhy_NotAResetConnection(string kind, string expected)
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);

        var response = await host.Admin.GetAsync("/plugins/t/bad-answer/" + kind);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("error", response.Headers.GetValues("X-Plugin-Error").Single());
        Assert.Contains("the plugin's answer is not valid HTTP: " + expected, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(response.Headers.Contains("set-cookie"));
        var view = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t");
        Assert.Equal(1, view.GetProperty("callFailures").GetInt64());
        Assert.Contains(expected, view.GetProperty("lastCallError").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnAnswerGivingItsLengthTwiceAlike_IsOneLength_AndPassesWhole()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);

        var response = await host.Admin.GetAsync("/plugins/t/bad-answer/length-same-twice");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(4, response.Content.Headers.ContentLength);
        Assert.Equal("body", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("no-content-with-body", HttpStatusCode.NoContent)]
    [InlineData("not-modified-with-body", HttpStatusCode.NotModified)]
    public async Task ABodyOnAnAnswerThatHasNone_IsDropped(string kind, HttpStatusCode status)
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);

        var response = await host.Admin.GetAsync("/plugins/t/bad-answer/" + kind);

        Assert.Equal(status, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        Assert.Null(response.Content.Headers.ContentLength is > 0 ? response.Content.Headers.ContentLength : null);
    }

    [Fact]
    public async Task UnavailablePlugin_Is503_WithRetryAfter()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);
        (await host.Admin.PostAsync("/admin/api/plugins/t/disable", null)).EnsureSuccessStatusCode();

        var response = await host.Admin.GetAsync("/plugins/t/whoami");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Equal("unavailable", response.Headers.GetValues("X-Plugin-Error").Single());
    }

    [Fact]
    public async Task SlowRoute_Is504_AtTheRouteDeadline()
    {
        var manifest = PluginFolders.Test("t");
        manifest["limits"] = new JsonObject { ["routeTimeoutSeconds"] = 0.5 };
        await using var host = await TestHost.StartAsync(manifest);
        await host.WaitForStateAsync("t", WorkerState.Ready);

        var response = await host.Admin.GetAsync("/plugins/t/slow");

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("timeout", response.Headers.GetValues("X-Plugin-Error").Single());
    }

    [Fact]
    public async Task HeaderPolicy_KeepsHostCredentialsAndCookies_AndSetsForwardingHeadersItself()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/plugins/t/echo/a/b?x=1");
        request.Headers.Add("Cookie", "host-session=secret");
        request.Headers.Add("X-Forwarded-For", "6.6.6.6");
        request.Headers.Add("X-Custom", "kept");

        var response = await host.Admin.SendAsync(request);
        var echoed = await response.Content.ReadFromJsonAsync<JsonElement>();

        var headers = echoed.GetProperty("headers");
        Assert.Equal("/echo/a/b", echoed.GetProperty("path").GetString());
        Assert.Equal("?x=1", echoed.GetProperty("query").GetString());
        Assert.Equal("admin", echoed.GetProperty("user").GetString());
        Assert.Equal("kept", headers.GetProperty("x-custom").GetString());
        Assert.Equal("127.0.0.1", headers.GetProperty("x-forwarded-for").GetString());
        Assert.Equal("/plugins/t", headers.GetProperty("x-forwarded-prefix").GetString());
        Assert.False(headers.TryGetProperty("cookie", out _));
        Assert.False(headers.TryGetProperty("authorization", out _));
        Assert.False(response.Headers.Contains("Set-Cookie"));
        Assert.False(response.Headers.Contains("Clear-Site-Data"));
        Assert.False(response.Headers.Contains("Service-Worker-Allowed"));
        Assert.Equal("ok", response.Headers.GetValues("x-plugin-header").Single());
    }

    [Fact]
    public async Task AHeaderTheClientsConnectionHeaderNames_StaysWithTheHost_AsAProxyMust()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/plugins/t/echo/a");
        request.Version = HttpVersion.Version11;
        request.Headers.Connection.Add("X-Hop-Secret");
        request.Headers.Connection.Add("x-other-hop");
        request.Headers.Add("X-Hop-Secret", "for the host");
        request.Headers.Add("X-Other-Hop", "also");
        request.Headers.Add("X-Custom", "kept");

        var response = await host.Admin.SendAsync(request);
        var headers = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("headers");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(headers.TryGetProperty("x-hop-secret", out _), headers.ToString());
        Assert.False(headers.TryGetProperty("x-other-hop", out _), headers.ToString());
        Assert.False(headers.TryGetProperty("connection", out _), headers.ToString());
        Assert.Equal("kept", headers.GetProperty("x-custom").GetString());
    }

    [Fact]
    public async Task PluginRoutes_RequireTheHostsPolicy_UnlessTheManifestDeclaresThemAnonymous()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"), PluginFolders.Hello());
        await Task.WhenAll(host.WaitForStateAsync("t", WorkerState.Ready), host.WaitForStateAsync("hello", WorkerState.Ready));

        var anonymous = await host.Client.GetAsync("/plugins/t/whoami");
        var withKey = await host.Admin.GetAsync("/plugins/t/whoami");
        var declaredAnonymous = await host.Client.GetAsync("/plugins/hello/ping");

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, withKey.StatusCode);
        Assert.Equal(HttpStatusCode.OK, declaredAnonymous.StatusCode);
        var view = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/hello");
        Assert.Equal("GET /ping", view.GetProperty("anonymousRoutes")[0].GetString());
    }

    [Fact]
    public async Task RouteParameters_ReachTheHandlerDecoded_AndALiteralSegmentBeatsAParameter()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);

        var values = await host.Admin.GetFromJsonAsync<JsonElement>("/plugins/t/items/42/parts/h%C3%A9llo%20world");
        var literal = await host.Admin.GetStringAsync("/plugins/t/items/new/parts/wheel");
        var tooShort = await host.Admin.GetAsync("/plugins/t/items/42");

        Assert.Equal("42", values.GetProperty("id").GetString());
        Assert.Equal("h\u00e9llo world", values.GetProperty("part").GetString());
        Assert.Equal("the literal route, for wheel", literal);
        Assert.Equal(HttpStatusCode.NotFound, tooShort.StatusCode);
        Assert.Contains("has no route /items/42", await tooShort.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Head_IsServedByTheGetRoute_UnderItsAccessRule_WithTheHeadersAndNoBody()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"), PluginFolders.Hello());
        await Task.WhenAll(host.WaitForStateAsync("t", WorkerState.Ready), host.WaitForStateAsync("hello", WorkerState.Ready));

        using var get = await host.Client.GetAsync("/plugins/hello/ping");
        using var head = await host.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/plugins/hello/ping"));
        using var anonymous = await host.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/plugins/t/whoami"));
        using var withKey = await host.Admin.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/plugins/t/whoami"));

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal((await get.Content.ReadAsByteArrayAsync()).Length, head.Content.Headers.ContentLength);
        Assert.Equal(get.Content.Headers.ContentType, head.Content.Headers.ContentType);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, withKey.StatusCode);
    }

    [Fact]
    public async Task PluginAskingForAnonymousAccessItsManifestDoesNotGrant_IsRefused()
    {
        var manifest = PluginFolders.Hello();
        manifest["routes"] = new JsonArray(new JsonObject { ["method"] = "GET", ["path"] = "/ping" });
        await using var host = await TestHost.StartAsync([manifest], o => o.MaxRestarts = 0);
        host.ExpectErrors = true; // a deliberately broken or refused plugin logs errors

        var snapshot = await host.WaitForStateAsync("hello", WorkerState.CrashLooping);

        Assert.Contains("Describe asks for anonymous access to GET /ping, which the manifest does not declare anonymous", snapshot.LastError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/plugins/t/echo/..%2F..%2Fadmin", 400)]
    [InlineData("/plugins/t/echo/a%5Cb", 400)]
    // Kestrel resolves dot segments before routing: these are requests for the
    // admin API, never for the plugin, and the admin policy still applies.
    [InlineData("/plugins/t/%2e%2e/%2e%2e/admin/api/plugins", 401)]
    [InlineData("/plugins/t/echo/../../../admin/api/plugins", 401)]
    public async Task TraversalAttempts_NeverReachOutsideThePlugin_NorBypassAuth(string target, int expected)
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);

        var (status, body) = await RawGetAsync(host.Client.BaseAddress!, target);

        Assert.Equal(expected, status);
        Assert.DoesNotContain("\"path\"", body, StringComparison.Ordinal);
    }

    /// <summary>Sends the target byte for byte: HttpClient would normalise it first.</summary>
    private static async Task<(int Status, string Body)> RawGetAsync(Uri address, string target)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(address.Host, address.Port);
        await using var stream = client.GetStream();
        var request = $"GET {target} HTTP/1.1\r\nHost: {address.Authority}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream);
        var text = await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10));
        return (int.Parse(text.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture), text);
    }
}
