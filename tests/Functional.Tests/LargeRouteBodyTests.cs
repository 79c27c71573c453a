using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Supervisor.Supervision;
using Microsoft.Extensions.DependencyInjection;

namespace GrpcPlugins.Functional.Tests;

/// <summary>
/// Plugin routes that move much more than a message: a file export, a database
/// dump, an import. Bodies must arrive whole, as they are written, and at the
/// pace of the slower side, without the host holding them in memory.
/// </summary>
public sealed class LargeRouteBodyTests
{
    private const int MiB = 1024 * 1024;

    [Fact]
    public async Task AnswerWrittenInOneWriteLargerThanAMessage_ReachesTheClientWhole()
    {
        // 20 MiB in one WriteAsync: more than the 16 MiB a gRPC message may carry.
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);

        using var response = await host.Admin.GetAsync($"/plugins/t/bytes?n={20 * MiB}&write={20 * MiB}", HttpCompletionOption.ResponseHeadersRead);

        response.EnsureSuccessStatusCode();
        Assert.Equal(20L * MiB, await CountPatternBytesAsync(response));
    }

    [Fact]
    public async Task LargeAnswer_IsStreamedToTheClient_NotHeldWholeToGiveItALength()
    {
        // The plugin writes 64 MiB as fast as it can; frames reach the host faster than
        // it takes them, yet the host must pass them on rather than collect them for a
        // Content-Length.
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);

        using var response = await host.Admin.GetAsync($"/plugins/t/bytes?n={64 * MiB}", HttpCompletionOption.ResponseHeadersRead);

        response.EnsureSuccessStatusCode();
        Assert.Null(response.Content.Headers.ContentLength);
        Assert.True(response.Headers.TransferEncodingChunked);
        Assert.Equal(64L * MiB, await CountPatternBytesAsync(response));
    }

    [Fact]
    public async Task LengthThePluginDeclares_ReachesTheClient_ForAStreamedAnswer()
    {
        // A file export: the client can show progress and knows the answer came whole.
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);

        using var response = await host.Admin.GetAsync($"/plugins/t/bytes?n={8 * MiB}&declare={8 * MiB}", HttpCompletionOption.ResponseHeadersRead);

        response.EnsureSuccessStatusCode();
        Assert.Equal(8L * MiB, response.Content.Headers.ContentLength);
        Assert.NotEqual(true, response.Headers.TransferEncodingChunked);
        Assert.Equal(8L * MiB, await CountPatternBytesAsync(response));
    }

    [Theory]
    [InlineData(2 * MiB, 1 * MiB, "sent 1048576")]
    [InlineData(1 * MiB, 2 * MiB, "sent more")]
    [InlineData(100, 10, "sent 10")]
    [InlineData(10, 100, "sent more")]
    public async Task AnswerThatBreaksItsDeclaredLength_IsCut_AndCountedAsThePluginsError(int declared, int sent, string expected)
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);

        // Never a whole answer of the wrong length: a cut response (or a 502 if nothing was sent yet).
        var cut = false;
        try
        {
            using var response = await host.Admin.GetAsync($"/plugins/t/bytes?n={sent}&declare={declared}");
            cut = response.StatusCode == System.Net.HttpStatusCode.BadGateway;
        }
        catch (HttpRequestException)
        {
            cut = true;
        }

        Assert.True(cut, "the client got a whole answer");
        var view = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t");
        Assert.Equal(1, view.GetProperty("callFailures").GetInt64());
        Assert.Contains($"the plugin declared a content-length of {declared} bytes and {expected}", view.GetProperty("lastCallError").GetString(), StringComparison.Ordinal);
        Assert.Equal("t", JsonDocument.Parse(await host.Admin.GetStringAsync("/plugins/t/whoami")).RootElement.GetProperty("id").GetString());
    }

    [Fact]
    public async Task HeadOfALargeAnswer_SendsNoBody_AndTheConnectionServesOn()
    {
        // The GET answer is streamed past 64 KiB, so HEAD gets no length; it must still end cleanly.
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);

        using var head = await host.Admin.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/plugins/t/bytes?n={4 * MiB}"));
        var body = await head.Content.ReadAsByteArrayAsync();
        var next = await host.Admin.GetStringAsync("/plugins/t/whoami");

        Assert.Equal(System.Net.HttpStatusCode.OK, head.StatusCode);
        Assert.Empty(body);
        Assert.Contains("\"id\":\"t\"", next, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClientThatStopsReading_HoldsThePluginBack_AndLeavingFreesIt()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);
        // Disposed at the end even when an assertion fails, or the host would wait on the stalled request at its stop.
        using var response = await host.Admin.GetAsync($"/plugins/t/bytes?n={1024L * MiB}", HttpCompletionOption.ResponseHeadersRead);
        var body = await response.Content.ReadAsStreamAsync();
        await body.ReadExactlyAsync(new byte[MiB]);

        // The client reads nothing more: what the plugin can write is what the socket,
        // HTTP/2 and pipe buffers between it and the client take (12 MiB here), not the whole answer.
        var stalled = await WrittenWhenStalledAsync(host);
        Assert.True(stalled < 64L * MiB, $"the plugin wrote {stalled / MiB} MiB for a client that read 1 MiB");

        response.Dispose();
        await AssertEventuallyAsync(async () => await host.Admin.GetStringAsync("/plugins/t/whoami") is { Length: > 0 });
        Assert.Equal(WorkerState.Ready, host.Supervisor("t").Snapshot.State);
    }

    [Fact]
    public async Task PluginThatSendsABodyAsOneOversizedMessage_FailsTheResponse_AndTheErrorSaysHowToFixIt()
    {
        // A Python plugin without an Sdk to split its write: one 17 MiB message.
        await using var host = await TestHost.StartAsync(new JsonObject
        {
            ["id"] = "whole",
            ["version"] = "1.0.0",
            ["command"] = "/usr/bin/python3",
            ["args"] = new JsonArray(TestPaths.WholeBodyChunkPlugin),
            ["routes"] = new JsonArray(new JsonObject { ["method"] = "GET", ["path"] = "/*" }),
        });
        var ready = await host.WaitForStateAsync("whole", WorkerState.Ready);

        // The head may already be on its way, so the client sees either a 502 or a cut response.
        var failed = false;
        try
        {
            using var response = await host.Admin.GetAsync("/plugins/whole/export");
            failed = response.StatusCode == System.Net.HttpStatusCode.BadGateway;
        }
        catch (HttpRequestException)
        {
            failed = true;
        }

        Assert.True(failed, "the client was not told the answer failed");
        var view = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/whole");
        Assert.Equal(1, view.GetProperty("callFailures").GetInt64());
        Assert.Contains("ResourceExhausted", view.GetProperty("lastCallError").GetString(), StringComparison.Ordinal);
        Assert.Contains("may carry at most 16 MiB: send a large body as chunks", view.GetProperty("lastCallError").GetString(), StringComparison.Ordinal);
        // The plugin's mistake costs it that call, not its worker. Python still busy with its
        // 17 MiB may miss one 500 ms health probe on a loaded machine (one is no restart);
        // the same worker serves on.
        var after = await host.WaitForStateAsync("whole", WorkerState.Ready);
        Assert.Equal(ready.Pid, after.Pid);
        Assert.Equal(0, after.Restarts);
    }

    [Fact]
    public async Task PluginThatStopsReadingAnUpload_HoldsTheClientBack_AndTheRouteDeadlineEndsTheCall()
    {
        // With its input buffers full, Kestrel stops reading the client's socket and so
        // does not see the client leave: the route's deadline is what ends such a call.
        var manifest = PluginFolders.Test("t");
        manifest["limits"] = new JsonObject { ["routeTimeoutSeconds"] = 2 };
        await using var host = await TestHost.StartAsync(manifest);
        await host.WaitForStateAsync("t", WorkerState.Ready);
        var upload = new EndlessZeros();
        using var leave = new CancellationTokenSource();

        // No declared length: the host streams it, and the plugin reads 1 MiB of it.
        var sending = host.Admin.PostAsync("/plugins/t/read-then-wait", new StreamContent(upload), leave.Token);
        var stalled = await StalledAsync(() => Task.FromResult(upload.Sent));

        Assert.True(stalled < 64L * MiB, $"the client sent {stalled / MiB} MiB to a plugin that read 1 MiB");
        await leave.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sending);
        await AssertEventuallyAsync(async () => await host.Admin.GetStringAsync("/plugins/t/whoami") is { Length: > 0 });
        // Serving, and the same worker: on a loaded machine one health probe may miss its
        // 500 ms and show Unhealthy for a moment, which is not what this test is about.
        var after = await host.WaitForStateAsync("t", WorkerState.Ready);
        Assert.Equal(0, after.Restarts);
    }

    [Fact]
    public async Task PluginThatStopsReadingAnUploadItReadsFromTheHost_IsAnswered504AtTheRouteDeadline()
    {
        // The body is offered to the plugin, which reads 1 MiB and waits: the host's copy then
        // blocks on the plugin's flow control. The deadline must still answer the client, and
        // the copy must stop rather than hold the route call open.
        var manifest = PluginFolders.Test("t");
        manifest["limits"] = new JsonObject { ["routeTimeoutSeconds"] = 2 };
        await using var host = await TestHost.StartAsync(manifest);
        var before = await host.WaitForStateAsync("t", WorkerState.Ready);
        var address = host.Client.BaseAddress!;
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(address.Host, address.Port);
        var stream = client.GetStream();
        var head = $"POST /plugins/t/read-then-wait HTTP/1.1\r\nHost: {address.Authority}\r\nAuthorization: Bearer {TestHost.AdminKey}\r\nContent-Length: {25L * MiB}\r\n\r\n";
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(head));
        using var stopSending = new CancellationTokenSource();
        var sending = Task.Run(async () =>
        {
            var zeros = new byte[64 * 1024];
            while (true)
            {
                await stream.WriteAsync(zeros, stopSending.Token);
            }
        });

        var status = await ReadStatusLineAsync(stream, TimeSpan.FromSeconds(15));
        await stopSending.CancelAsync();
        client.Close();
        await Assert.ThrowsAnyAsync<Exception>(() => sending);

        Assert.StartsWith("HTTP/1.1 504", status, StringComparison.Ordinal);
        Assert.Equal(before.Pid, host.Supervisor("t").Snapshot.Pid);
        var bodies = host.Services.GetRequiredService<GrpcPlugins.Host.Routes.PulledBodies>();
        await AssertEventuallyAsync(() => Task.FromResult(bodies.Count == 0));
    }

    [Fact]
    public async Task PluginThatPausesWhileReadingAnUpload_GetsAllOfIt_AfterTheServersRateGrace()
    {
        // A handler that works on its first 64 KiB for 7 s leaves the host's copy blocked on flow
        // control for longer than Kestrel's 5 s grace for a slow response; the plugin's own read
        // must not be cut for it (the route's deadline and idle timeout bound the call instead).
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);

        var response = await host.Admin.PostAsync("/plugins/t/read-with-a-pause?ms=7000", new ByteArrayContent(new byte[8 * MiB]));

        response.EnsureSuccessStatusCode();
        Assert.Equal((8 * MiB).ToString(CultureInfo.InvariantCulture), await response.Content.ReadAsStringAsync());
    }

    private static async Task<string> ReadStatusLineAsync(Stream stream, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        var line = new List<byte>();
        var one = new byte[1];
        while (await stream.ReadAsync(one, cancel.Token) == 1 && one[0] != (byte)'\n')
        {
            line.Add(one[0]);
        }

        return System.Text.Encoding.ASCII.GetString([.. line]).TrimEnd('\r');
    }

    private static Task<long> WrittenWhenStalledAsync(TestHost host) =>
        StalledAsync(async () => long.Parse(await host.Admin.GetStringAsync("/plugins/t/bytes-written"), CultureInfo.InvariantCulture));

    private static async Task<long> StalledAsync(Func<Task<long>> progress)
    {
        // Once every buffer on the way is full, the count stops moving.
        var last = -1L;
        for (var i = 0; i < 100; i++)
        {
            await Task.Delay(200);
            var now = await progress();
            if (now == last)
            {
                return now;
            }

            last = now;
        }

        throw new Xunit.Sdk.XunitException($"the transfer never stalled: {last / MiB} MiB after 20 s");
    }

    private static async Task AssertEventuallyAsync(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 50 && !await condition(); i++)
        {
            await Task.Delay(100);
        }

        Assert.True(await condition());
    }

    private static async Task<long> CountPatternBytesAsync(HttpResponseMessage response)
    {
        await using var body = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[256 * 1024];
        long offset = 0;
        int read;
        while ((read = await body.ReadAsync(buffer)) > 0)
        {
            for (var i = 0; i < read; i++)
            {
                if (buffer[i] != (byte)((offset + i) % 251))
                {
                    throw new Xunit.Sdk.XunitException($"byte {offset + i} is {buffer[i]}, not the pattern's {(offset + i) % 251}");
                }
            }

            offset += read;
        }

        return offset;
    }

    /// <summary>An upload that never ends, counting what the client has taken from it.</summary>
    private sealed class EndlessZeros : Stream
    {
        private long _sent;

        public long Sent => Interlocked.Read(ref _sent);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            Array.Clear(buffer, offset, count);
            Interlocked.Add(ref _sent, count);
            return count;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
