using System.Text;
using Google.Protobuf;
using GrpcPlugins.Host.Calls;
using GrpcPlugins.Host.Hooks;
using GrpcPlugins.Protocol.V1;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using HookMatch = GrpcPlugins.Host.Hooks.HookMatch;

namespace GrpcPlugins.Host.Tests;

/// <summary>Dispatcher semantics over fake targets; Functional.Tests run the same paths against real workers.</summary>
public sealed class HookDispatcherTests
{
    private static readonly HookPoint s_open = new("request", HookFailureMode.FailOpen, TimeSpan.FromSeconds(1));
    private static readonly HookPoint s_closed = new("request", HookFailureMode.FailClosed, TimeSpan.FromSeconds(1));

    [Fact]
    public async Task Modify_ThreadsTheBodyAndHeadersToTheNextPlugin()
    {
        var second = new FakeTarget("b", r => Modify(r.Body.ToStringUtf8() + "+b"));
        var dispatcher = Dispatcher(new FakeTarget("a", _ => Modify("from-a", ("x-a", "1"))), second);

        var outcome = await dispatcher.DispatchAsync(s_open, Input("start"));

        var continued = Assert.IsType<HookOutcome.Continued>(outcome);
        Assert.Equal("from-a+b", Encoding.UTF8.GetString(continued.Body.Span));
        Assert.Equal("1", continued.Headers["x-a"]);
        Assert.Equal("1", second.Requests.Single().Headers["x-a"]);
    }

    [Fact]
    public async Task FirstShortCircuit_Wins_AndLaterPluginsAreNotCalled()
    {
        var later = new FakeTarget("c", _ => Modify("never"));
        var dispatcher = Dispatcher(new FakeTarget("a", _ => new HookResponse { Continue = new HookContinue() }), new FakeTarget("b", _ => ShortCircuit(401)), later);

        var outcome = await dispatcher.DispatchAsync(s_open, Input("x"));

        var sc = Assert.IsType<HookOutcome.ShortCircuited>(outcome);
        Assert.Equal(("b", 401), (sc.PluginId, sc.StatusCode));
        Assert.Empty(later.Requests);
    }

    [Theory]
    [InlineData(CallFailureKind.Unavailable)]
    [InlineData(CallFailureKind.TimedOut)]
    [InlineData(CallFailureKind.Errored)]
    [InlineData(CallFailureKind.Crashed)]
    public async Task FailOpen_SkipsTheFailingPlugin_AndCountsIt(CallFailureKind kind)
    {
        var stats = new CallStats();
        var dispatcher = Dispatcher(stats, new FakeTarget("bad", _ => throw new FailureException(kind)), new FakeTarget("good", r => Modify(r.Body.ToStringUtf8() + "+good")));

        var outcome = await dispatcher.DispatchAsync(s_open, Input("x"));

        var continued = Assert.IsType<HookOutcome.Continued>(outcome);
        Assert.Equal("x+good", Encoding.UTF8.GetString(continued.Body.Span));
        Assert.Equal(kind, Assert.Single(continued.Skipped).Kind);
        Assert.Equal(1, stats.Get("bad").Failures);
    }

    [Theory]
    [InlineData(CallFailureKind.Unavailable, 503)]
    [InlineData(CallFailureKind.TimedOut, 504)]
    [InlineData(CallFailureKind.Errored, 502)]
    [InlineData(CallFailureKind.Crashed, 502)]
    public async Task FailClosed_FailsTheCall_WithTheMatchingStatus(CallFailureKind kind, int status)
    {
        var later = new FakeTarget("later", _ => Modify("never"));
        var dispatcher = Dispatcher(new FakeTarget("bad", _ => throw new FailureException(kind)), later);

        var outcome = await dispatcher.DispatchAsync(s_closed, Input("x"));

        var failed = Assert.IsType<HookOutcome.Failed>(outcome);
        Assert.Equal(status, failed.Failure.StatusCode);
        Assert.Empty(later.Requests);
    }

    [Fact]
    public async Task AnAnswerThatIsNotValidHttp_IsThePluginsError_SkippedWhenOpen_FailingWhenClosed()
    {
        var stats = new CallStats();
        var informational = new FakeTarget("informational", _ => ShortCircuit(101));
        var injecting = new FakeTarget("injecting", _ => Modify("x", ("x-note", "a\r\nset-cookie: stolen=1")));
        var good = new FakeTarget("good", r => Modify(r.Body.ToStringUtf8() + "+good"));

        var open = await Dispatcher(stats, informational, injecting, good).DispatchAsync(s_open, Input("x"));
        var closed = await Dispatcher(injecting).DispatchAsync(s_closed, Input("x"));

        var continued = Assert.IsType<HookOutcome.Continued>(open);
        Assert.Equal("x+good", Encoding.UTF8.GetString(continued.Body.Span));
        Assert.Equal(["informational", "injecting"], continued.Skipped.Select(f => f.PluginId));
        Assert.Contains("status 101 is not a final HTTP status", continued.Skipped[0].Detail, StringComparison.Ordinal);
        Assert.Contains("the value of header 'x-note' holds the character U+000D", continued.Skipped[1].Detail, StringComparison.Ordinal);
        Assert.Equal(1, stats.Get("injecting").Failures);
        var failed = Assert.IsType<HookOutcome.Failed>(closed);
        Assert.Equal((CallFailureKind.Errored, 502), (failed.Failure.Kind, failed.Failure.StatusCode));
    }

    [Fact]
    public async Task StreamingCall_OffersNoBody_AndIgnoresAReplacement()
    {
        var target = new FakeTarget("a", _ => Modify("replaced"));
        var dispatcher = Dispatcher(target);
        var input = Input("secret body") with { Context = new HookCallContext(IsStreaming: true) };

        var outcome = await dispatcher.DispatchAsync(s_open, input);

        Assert.True(target.Requests.Single().Body.IsEmpty);
        Assert.True(target.Requests.Single().Context.IsStreaming);
        Assert.True(Assert.IsType<HookOutcome.Continued>(outcome).Body.IsEmpty);
    }

    [Fact]
    public async Task CallerCancellation_IsNotReportedAsAPluginFailure()
    {
        var stats = new CallStats();
        using var cts = new CancellationTokenSource();
        var dispatcher = Dispatcher(stats, new FakeTarget("a", _ =>
        {
            cts.Cancel();
            throw new FailureException(CallFailureKind.Errored);
        }));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => dispatcher.DispatchAsync(s_open, Input("x"), cts.Token).AsTask());
        Assert.Equal(0, stats.Get("a").Failures);
    }

    [Fact]
    public async Task APluginWhoseMatchExcludesTheCall_IsNotCalled_AndTheCallGoesOnUnchanged()
    {
        var ordersOnly = new FakeTarget("orders", _ => ShortCircuit(403), new HookMatch(["/orders*"], [], false, []));
        var jsonOnly = new FakeTarget("json", _ => ShortCircuit(415), new HookMatch([], ["application/json"], false, []));
        var everyCall = new FakeTarget("all", r => Modify(r.Body.ToStringUtf8() + "+all"));
        var dispatcher = Dispatcher(ordersOnly, jsonOnly, everyCall);

        var outcome = await dispatcher.DispatchAsync(s_open, Input("x") with { Context = new HookCallContext(RouteId: "/users/{id}") });

        Assert.Equal("x+all", Encoding.UTF8.GetString(Assert.IsType<HookOutcome.Continued>(outcome).Body.Span));
        Assert.Empty(ordersOnly.Requests);
        Assert.Empty(jsonOnly.Requests);
    }

    [Fact]
    public async Task AMethodMatch_TakesOnlyItsMethods_AndThePluginSeesTheRequestLine()
    {
        var deletesOnly = new FakeTarget("deletes", _ => ShortCircuit(403), new HookMatch([], [], false, ["DELETE"]));
        var context = new HookCallContext(RouteId: "/orders/{id}") { Method = "GET", Path = "/orders/42", Query = "?full=1" };

        var get = await Dispatcher(deletesOnly).DispatchAsync(s_open, Input("x") with { Context = context });
        var delete = await Dispatcher(deletesOnly).DispatchAsync(s_open, Input("x") with { Context = context with { Method = "DELETE" } });

        Assert.IsType<HookOutcome.Continued>(get);
        Assert.Equal(403, Assert.IsType<HookOutcome.ShortCircuited>(delete).StatusCode);
        var sent = Assert.Single(deletesOnly.Requests).Context;
        Assert.Equal(("DELETE", "/orders/42", "?full=1", 0), (sent.Method, sent.Path, sent.Query, sent.StatusCode));
    }

    [Fact]
    public async Task APluginScopedAwayFromTheCallsTenant_IsNotCalled()
    {
        var onlyAcme = new FakeTarget("only-acme", _ => ShortCircuit(402), tenants: new(GrpcPlugins.Host.Hooks.Tenancy.TenantScopeMode.Only, ["acme"]));
        var notInitech = new FakeTarget("not-initech", r => Modify(r.Body.ToStringUtf8() + "+tagged"), tenants: new(GrpcPlugins.Host.Hooks.Tenancy.TenantScopeMode.Except, ["initech"]));
        HookInput For(string tenant) => Input("x") with { Context = new HookCallContext(TenantId: tenant) };

        var initech = await Dispatcher(onlyAcme, notInitech).DispatchAsync(s_open, For("initech"));
        var globex = await Dispatcher(onlyAcme, notInitech).DispatchAsync(s_open, For("globex"));
        var acme = await Dispatcher(onlyAcme, notInitech).DispatchAsync(s_open, For("acme"));

        Assert.Equal("x", Encoding.UTF8.GetString(Assert.IsType<HookOutcome.Continued>(initech).Body.Span));
        Assert.Equal("x+tagged", Encoding.UTF8.GetString(Assert.IsType<HookOutcome.Continued>(globex).Body.Span));
        Assert.Equal(402, Assert.IsType<HookOutcome.ShortCircuited>(acme).StatusCode);
        Assert.Equal("acme", Assert.Single(onlyAcme.Requests).Context.TenantId);
        // acme's call ended at the short-circuit before it.
        Assert.Equal("globex", Assert.Single(notInitech.Requests).Context.TenantId);
    }

    [Fact]
    public async Task AMatchSeesTheContentTypeAnEarlierPluginSet()
    {
        var toJson = new FakeTarget("to-json", _ => new HookResponse { Modify = new HookModify { ContentType = "application/json; charset=utf-8" } });
        var jsonOnly = new FakeTarget("json", _ => ShortCircuit(418), new HookMatch([], ["application/JSON"], false, []));

        var outcome = await Dispatcher(toJson, jsonOnly).DispatchAsync(s_open, Input("{}"));

        Assert.Equal(418, Assert.IsType<HookOutcome.ShortCircuited>(outcome).StatusCode);
    }

    [Fact]
    public async Task AHeadersOnlyPlugin_IsSentNoBody_AndItsBodyReplacementIsRefusedAsItsError()
    {
        var stats = new CallStats();
        var headersOnly = new FakeTarget("headers", _ => Modify("invented", ("x-seen", "1")), new HookMatch([], [], true, []));
        var after = new FakeTarget("after", r => Modify(r.Body.ToStringUtf8() + "+after"));

        var outcome = await Dispatcher(stats, headersOnly, after).DispatchAsync(s_open, Input("the body"));

        Assert.True(headersOnly.Requests.Single().Body.IsEmpty);
        var continued = Assert.IsType<HookOutcome.Continued>(outcome);
        Assert.Equal("the body+after", Encoding.UTF8.GetString(continued.Body.Span));
        Assert.Contains("headers only", Assert.Single(continued.Skipped).Detail, StringComparison.Ordinal);
        Assert.Equal(1, stats.Get("headers").Failures);
    }

    private static HookDispatcher Dispatcher(params IHookTarget[] targets) => Dispatcher(new CallStats(), targets);

    private static HookDispatcher Dispatcher(CallStats stats, params IHookTarget[] targets)
    {
        var time = new FakeTimeProvider();
        return new HookDispatcher(new FakeTargets(targets), new CallFailureReporter(stats, NullLogger<CallFailureReporter>.Instance, time), new CallFailureRuns(), new PluginMetrics(new TestMeterFactory(), new Registry.PluginCatalog(), new Routes.WebSockets.OpenWebSockets()), time);
    }

    private static HookInput Input(string body) => new(Encoding.UTF8.GetBytes(body), "text/plain", new Dictionary<string, string>(), new HookCallContext());

    private static HookResponse Modify(string body, params (string Name, string Value)[] headers)
    {
        var modify = new HookModify { Body = ByteString.CopyFromUtf8(body), ReplaceBody = true };
        foreach (var (name, value) in headers)
        {
            modify.SetHeaders[name] = value;
        }

        return new HookResponse { Modify = modify };
    }

    private static HookResponse ShortCircuit(int status) => new() { ShortCircuit = new HookShortCircuit { StatusCode = status, Body = ByteString.CopyFromUtf8("no") } };

    private sealed class FailureException(CallFailureKind kind) : Exception
    {
        public CallFailureKind Kind { get; } = kind;
    }

    private sealed class FakeTargets(IHookTarget[] targets) : IHookTargets
    {
        public IReadOnlyList<IHookTarget> For(string point) => targets;
    }

    private sealed class FakeTarget(string id, Func<HookRequest, HookResponse> answer, HookMatch? match = null, GrpcPlugins.Host.Hooks.Tenancy.TenantScope? tenants = null) : IHookTarget
    {
        public List<HookRequest> Requests { get; } = [];

        public string PluginId => id;

        public TimeSpan? CallTimeout => null;

        public HookMatch Match => match ?? HookMatch.Any;

        public bool TakesTenant(string tenantId) => (tenants ?? GrpcPlugins.Host.Hooks.Tenancy.TenantScope.All).Takes(tenantId);

        public ValueTask<HookTargetResult> InvokeAsync(HookRequest request, CallDeadline deadline)
        {
            Requests.Add(request.Clone());
            try
            {
                return ValueTask.FromResult(new HookTargetResult(answer(request), null));
            }
            catch (FailureException ex)
            {
                return ValueTask.FromResult(new HookTargetResult(null, new CallFailure(id, ex.Kind, "fake")));
            }
        }
    }
}
