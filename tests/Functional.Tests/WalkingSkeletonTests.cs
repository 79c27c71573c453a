using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Host.Calls;
using GrpcPlugins.Host.Hooks;
using GrpcPlugins.Protocol;
using GrpcPlugins.Protocol.V1;
using GrpcPlugins.Supervisor.Supervision;

namespace GrpcPlugins.Functional.Tests;

public sealed class WalkingSkeletonTests
{
    [Fact]
    public async Task Route_AnswersFromTheWorkerProcess_WithItsOwnPidAndVersion()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Hello());
        await host.WaitForStateAsync("hello", WorkerState.Ready);

        var pong = await host.Client.GetFromJsonAsync<JsonElement>("/plugins/hello/ping");

        Assert.Equal("1.0.0", pong.GetProperty("version").GetString());
        var pid = pong.GetProperty("pid").GetInt32();
        Assert.NotEqual(Environment.ProcessId, pid);
        Assert.Equal(host.Supervisor("hello").Snapshot.Pid, pid);
    }

    [Fact]
    public async Task RequestHook_RewritesTheBody()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Hello());
        await host.WaitForStateAsync("hello", WorkerState.Ready);

        var outcome = await host.Hooks.DispatchAsync(TestHost.Request, Input("hello world"));

        var continued = Assert.IsType<HookOutcome.Continued>(outcome);
        Assert.Equal("HELLO from the hello plugin world", Encoding.UTF8.GetString(continued.Body.Span));
        Assert.Empty(continued.Skipped);
    }

    [Fact]
    public async Task RequestHook_RefusesABodyThatSaysForbiddenInAnyCase()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Hello());
        await host.WaitForStateAsync("hello", WorkerState.Ready);

        var refused = await host.Hooks.DispatchAsync(TestHost.Request, Input("this is ForBidden here"));
        var passed = await host.Hooks.DispatchAsync(TestHost.Request, Input("forbid den"));

        var shortCircuit = Assert.IsType<HookOutcome.ShortCircuited>(refused);
        Assert.Equal(403, shortCircuit.StatusCode);
        Assert.Contains("forbidden", Encoding.UTF8.GetString(shortCircuit.Body.Span), StringComparison.Ordinal);
        Assert.IsType<HookOutcome.Continued>(passed);
    }

    [Fact]
    public async Task RequestHook_ThreadsTheBodyThroughPluginsInOrder()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Hello(), PluginFolders.Test("t-one"), PluginFolders.Test("t-two"));
        await Task.WhenAll(host.WaitForStateAsync("hello", WorkerState.Ready), host.WaitForStateAsync("t-one", WorkerState.Ready), host.WaitForStateAsync("t-two", WorkerState.Ready));

        var outcome = await host.Hooks.DispatchAsync(TestHost.Request, Input("hello"));

        var continued = Assert.IsType<HookOutcome.Continued>(outcome);
        Assert.Equal("HELLO from the hello plugin|t-one|t-two", Encoding.UTF8.GetString(continued.Body.Span));
    }

    [Fact]
    public async Task ShortCircuit_AnswersAndLaterPluginsAreNotCalled()
    {
        // If the second plugin were called, it would hang past the deadline and be skipped.
        await using var host = await TestHost.StartAsync(PluginFolders.Test("a-first", "short-circuit"), PluginFolders.Test("b-second", "hang-in-hook"));
        await Task.WhenAll(host.WaitForStateAsync("a-first", WorkerState.Ready), host.WaitForStateAsync("b-second", WorkerState.Ready));

        var outcome = await host.Hooks.DispatchAsync(TestHost.Request, Input("anything"));

        var shortCircuit = Assert.IsType<HookOutcome.ShortCircuited>(outcome);
        Assert.Equal("a-first", shortCircuit.PluginId);
        Assert.Equal(429, shortCircuit.StatusCode);
        Assert.Equal("a-first says slow down", Encoding.UTF8.GetString(shortCircuit.Body.Span));
        Assert.Empty(shortCircuit.Skipped);
    }

    [Fact]
    public async Task AShortCircuitWithAStatusThatIsNotFinal_IsSkippedAsThePluginsError()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("a-first", "invalid-short-circuit"), PluginFolders.Test("b-second"));
        await Task.WhenAll(host.WaitForStateAsync("a-first", WorkerState.Ready), host.WaitForStateAsync("b-second", WorkerState.Ready));

        var outcome = await host.Hooks.DispatchAsync(TestHost.Request, Input("anything"));

        var continued = Assert.IsType<HookOutcome.Continued>(outcome);
        Assert.Equal("anything|b-second", Encoding.UTF8.GetString(continued.Body.Span));
        var skipped = Assert.Single(continued.Skipped);
        Assert.Equal(("a-first", CallFailureKind.Errored), (skipped.PluginId, skipped.Kind));
        Assert.Contains("status 101 is not a final HTTP status", skipped.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StoppingTheHost_LeavesNoWorkerProcessAndNoSocket()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Hello(), PluginFolders.Test("other"));
        var ready = await host.WaitForStateAsync("hello", WorkerState.Ready);
        await host.WaitForStateAsync("other", WorkerState.Ready);
        var socket = host.Supervisor("hello").ReadyWorker!.Handshake!.Address;
        Assert.True(File.Exists(socket));

        await host.DisposeAsync();

        Assert.False(Liveness.IsAlive(ready.Pid!.Value), $"worker {ready.Pid} still runs");
        Assert.False(File.Exists(socket));
        Assert.False(Directory.Exists(host.Root));
    }

    [Fact]
    public async Task HostToWorkerCall_WithoutTheToken_IsUnauthenticated()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Hello());
        await host.WaitForStateAsync("hello", WorkerState.Ready);
        using var channel = UnixSocketChannel.Create(host.Supervisor("hello").ReadyWorker!.Handshake!.Address);
        var client = new Protocol.V1.Plugin.PluginClient(channel);

        var missing = await Assert.ThrowsAsync<RpcException>(() => client.DescribeAsync(new DescribeRequest()).ResponseAsync);
        var wrong = await Assert.ThrowsAsync<RpcException>(() => client.DescribeAsync(new DescribeRequest(), new Metadata { { "plugin-token", "not-the-token" } }).ResponseAsync);

        Assert.Equal(StatusCode.Unauthenticated, missing.StatusCode);
        Assert.Equal(StatusCode.Unauthenticated, wrong.StatusCode);
    }

    [Fact]
    public async Task WorkerToHostCall_WithAWrongToken_IsUnauthenticated()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Hello());
        await host.WaitForStateAsync("hello", WorkerState.Ready);
        var callback = Directory.GetFiles(host.Root, "host.sock", SearchOption.AllDirectories).Single();
        using var channel = UnixSocketChannel.Create(callback);
        var client = new PluginHost.PluginHostClient(channel);

        var missing = await Assert.ThrowsAsync<RpcException>(() => client.GetSettingsAsync(new GetSettingsRequest()).ResponseAsync);
        var wrong = await Assert.ThrowsAsync<RpcException>(() => client.GetSettingsAsync(new GetSettingsRequest(), new Metadata { { "plugin-token", "forged" } }).ResponseAsync);

        Assert.Equal(StatusCode.Unauthenticated, missing.StatusCode);
        Assert.Equal(StatusCode.Unauthenticated, wrong.StatusCode);
    }

    [Fact]
    public async Task PluginRunByHand_ExplainsItselfAndExitsNonZero()
    {
        var start = new ProcessStartInfo("dotnet", [TestPaths.HelloAssembly]) { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true };
        start.Environment.Remove("PLUGIN_MAGIC_COOKIE");
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);

        Assert.NotEqual(0, process.ExitCode);
        Assert.Contains("plugin for a GrpcPlugins host", await stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, await stdout);
    }

    internal static HookInput Input(string body) =>
        new(Encoding.UTF8.GetBytes(body), "text/plain", new Dictionary<string, string>(), new HookCallContext("test-route", Direction: HookDirection.Inbound));
}
