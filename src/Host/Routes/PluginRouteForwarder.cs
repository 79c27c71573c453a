using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using GrpcPlugins.Host.Auth;
using GrpcPlugins.Host.Calls;
using GrpcPlugins.Host.Hooks;
using GrpcPlugins.Host.Hooks.Endpoints;
using GrpcPlugins.Host.Hosting;
using GrpcPlugins.Host.Registry;
using GrpcPlugins.Protocol.V1;
using GrpcPlugins.Supervisor.Supervision;
using GrpcPlugins.Supervisor.Workers;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace GrpcPlugins.Host.Routes;

/// <summary>
/// Forwards /plugins/{id}/{**path} to the plugin's HandleHttp, streamed both
/// ways. Told in steps, after YARP's HttpForwarder: find, authorize, check,
/// send head, pump the body up while pumping the answer down, map failures.
/// </summary>
internal sealed class PluginRouteForwarder(
    PluginCatalog catalog,
    IAuthorizationPolicyProvider policies,
    IPolicyEvaluator evaluator,
    CallFailureReporter reporter,
    PluginMetrics metrics,
    IOptions<PluginHostOptions> options,
    EndpointHookServices hooks,
    PulledBodies bodies,
    Hooks.Tenancy.TenantScopes scopes,
    CallFailureRuns failureRuns,
    WebSockets.PluginWebSocketRelay webSockets,
    TimeProvider time)
{
    /// <summary>The outcome of a route request that became a WebSocket, whatever ended it.</summary>
    internal const string PluginWebSocketOutcome = "websocket";

    private static readonly Task<Exception?> s_noUpload = Task.FromResult<Exception?>(null);

    // The route's hook points take the route's tenant when they name none of their own.
    private readonly EndpointHooks? _routeHooks = options.Value is { PluginRouteHooks: { Tenant: null } routeHooks, RouteTenant: { } tenant }
        ? routeHooks with { Tenant = tenant }
        : options.Value.PluginRouteHooks;

    public async Task ForwardAsync(HttpContext context, string id, string? rest)
    {
        var started = time.GetTimestamp();
        var admission = await AdmitAsync(context, id, rest).ConfigureAwait(false);
        var outcome = admission.Refused
            ?? (_routeHooks is { } routeHooks
                ? await ServeHookedAsync(context, routeHooks, admission).ConfigureAwait(false)
                : await ServeAsync(context, admission).ConfigureAwait(false));
        var tags = new TagList { { "plugin", id }, { "outcome", outcome } };
        metrics.RouteCalls.Add(1, tags);
        if (outcome != PluginWebSocketOutcome)
        {
            // A WebSocket's life is no latency: it would swamp the routes' histogram.
            metrics.RouteDuration.Record(time.GetElapsedTime(started).TotalSeconds, tags);
        }
    }

    /// <summary>A request the host lets through to the plugin, or the outcome it was answered with instead.</summary>
    private readonly record struct Admission(string? Refused, PluginEntry? Entry, string Id, string Path, string Method, bool Anonymous, string Tenant)
    {
        public static Admission Answered(string outcome, string id) => new(outcome, null, id, string.Empty, string.Empty, false, string.Empty);
    }

    // Steps 1 and 2 usually complete without waiting, so the ValueTask costs nothing on the route path.
    private async ValueTask<Admission> AdmitAsync(HttpContext context, string id, string? rest)
    {
        // :: Step 1: the plugin, and whether it can serve at all.
        var entry = catalog.Find(id);
        if (entry is null)
        {
            await RouteProblem.WriteAsync(context, 404, "unknown-plugin", "Unknown plugin", $"No plugin with id '{id}' is installed.").ConfigureAwait(false);
            return Admission.Answered("unknown", id);
        }

        var path = PluginPath.Normalise(rest, out var pathError);
        if (path is null)
        {
            await RouteProblem.WriteAsync(context, 400, "bad-path", "Bad plugin path", pathError!).ConfigureAwait(false);
            return Admission.Answered("bad-path", id);
        }

        // :: Step 2: default-deny auth; only routes the manifest declares anonymous skip it.
        var method = WebSockets.WebSocketHandshake.MethodOf(context).ToUpperInvariant();
        var anonymous = entry.Manifest?.IsAnonymous(method, path) == true;
        if (!anonymous && !await AuthorizeAsync(context).ConfigureAwait(false))
        {
            return Admission.Answered("unauthorized", id);
        }

        // :: Step 2a: the tenant, when the host resolves one, and whether the plugin is theirs.
        if (options.Value.RouteTenant is not { } resolveTenant)
        {
            return new Admission(null, entry, id, path, method, anonymous, string.Empty);
        }

        var tenant = resolveTenant(context);
        if (Settings.TenantId.Problem(tenant) is { } tenantProblem)
        {
            await RouteProblem.WriteBadTenantAsync(context, tenantProblem).ConfigureAwait(false);
            return Admission.Answered("bad-tenant", id);
        }

        if (!scopes.For(id).Takes(tenant))
        {
            // Not theirs, as if it were not installed: the scope itself is the admins' business.
            await RouteProblem.WriteAsync(context, 404, "not-for-tenant", "Unknown plugin", tenant.Length == 0
                ? $"Plugin '{id}' serves only some tenants, and this request names none."
                : $"Plugin '{id}' does not serve tenant '{tenant}'.").ConfigureAwait(false);
            return Admission.Answered("not-for-tenant", id);
        }

        return new Admission(null, entry, id, path, method, anonymous, tenant);
    }

    // :: Step 2b: the host's hook points for plugin routes, if it set any: after access is
    // decided, so hook plugins see only what the host lets through.
    private async Task<string> ServeHookedAsync(HttpContext context, EndpointHooks routeHooks, Admission admission)
    {
        var outcome = "answered-by-hook";
        var runner = new EndpointHookRunner(routeHooks, $"/plugins/{admission.Id}", async c => outcome = await ServeAsync(c, admission).ConfigureAwait(false), hooks);
        await runner.InvokeAsync(context).ConfigureAwait(false);
        return outcome;
    }

    private async Task<string> ServeAsync(HttpContext context, Admission admission)
    {
        var (_, entry, id, path, method, anonymous, tenant) = admission;
        var manifest = entry!.Manifest;
        if (entry.Supervisor is not { } supervisor || manifest is null)
        {
            await RouteProblem.WriteAsync(context, 503, "refused", $"Plugin '{id}' is not loaded", string.Join(" ", entry.Refusal)).ConfigureAwait(false);
            return "refused";
        }

        var lease = supervisor.Lease();
        if (lease.Worker is { Description.ServesWebsockets: true } && WebSockets.WebSocketHandshake.IsAsked(context))
        {
            // The relay owns the lease from here: it gives the call place back once the plugin has answered the handshake.
            return await webSockets.ServeAsync(context, supervisor, lease, manifest, HeadOf(context, id, path, method, anonymous, tenant, webSocket: true)).ConfigureAwait(false);
        }

        using var owned = lease;
        if (lease.Worker is not { } worker)
        {
            var failure = LeaseFailure.Of(supervisor, lease);
            reporter.Report(failure, $"route {method} {path}");
            await RouteProblem.WriteAsync(context, failure).ConfigureAwait(false);
            return lease.Busy ? "busy" : "unavailable";
        }

        // :: Step 3: the body limit, up front when the length is declared.
        var maxBody = manifest.Limits.MaxRequestBodyBytes ?? options.Value.MaxRequestBodyBytes;
        if (context.Request.ContentLength > maxBody)
        {
            await RouteProblem.WriteAsync(context, 413, "too-large", "Request body too large", $"The body is {context.Request.ContentLength} bytes; plugin '{id}' accepts at most {maxBody}.").ConfigureAwait(false);
            return "too-large";
        }

        // :: Step 4: the call, under the route deadline.
        using var deadline = new CallDeadline(manifest.Limits.RouteTimeout ?? options.Value.RouteTimeout, time, context.RequestAborted);
        return await CallAsync(context, id, path, method, anonymous, tenant, maxBody, worker, deadline).ConfigureAwait(false);
    }

    private async Task<string> CallAsync(HttpContext context, string id, string path, string method, bool anonymous, string tenant, long maxBody, Worker worker, CallDeadline deadline)
    {
        var responseStarted = false;
        var bodyTooLarge = false;
        // The deadline's token ends a whole call; a streamed or pulled body also needs to end the
        // call on its own (a body over the limit), so only those paths pay for a source of their own.
        CancellationTokenSource? callCancel = null;
        var callToken = deadline.Token;
        PulledBody? pulled = null;
        try
        {
            var head = HeadOf(context, id, path, method, anonymous, tenant, webSocket: false);

            // :: Step 5: send the request. A small one with a known length goes whole in one
            // message when the plugin serves that; any other the plugin reads itself from the
            // host when it can (the fast direction), or is streamed up while the answer is
            // streamed down, so neither side buffers a whole body.
            var canHaveBody = context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody != false;
            // A small body without a length that is already all here goes whole too (a client
            // posting chunked JSON); one still arriving is never waited for.
            var (arrived, rest) = canHaveBody && context.Request.ContentLength is null && worker.Description.ServesHttpBuffered
                ? RouteExchange.TakeArrivedBody(context, Math.Min(RouteExchange.BufferedBodyLimit, maxBody))
                : (null, context.Request.Body);
            IAsyncStreamReader<HttpResponseFrame> answer;
            IDisposable callHandle;
            Task<Exception?> upload;
            if (worker.Description.ServesHttpBuffered && (!canHaveBody || arrived is not null || context.Request.ContentLength <= RouteExchange.BufferedBodyLimit))
            {
                var body = arrived ?? (canHaveBody ? await RouteExchange.ReadSmallBodyAsync(context, callToken).ConfigureAwait(false) : ByteString.Empty);
                (answer, callHandle) = worker.Connection.HandleHttpBuffered(new HttpBufferedRequest { Head = head, Body = body }, callToken);
                upload = s_noUpload;
            }
            else if (worker.Description is { ServesHttpBuffered: true, PullsHttpBody: true } && options.Value.PullRouteBodies)
            {
                callCancel = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token);
                callToken = callCancel.Token;
                pulled = bodies.Offer(id, rest, maxBody, callCancel, () => bodyTooLarge = true);
                head.BodyId = pulled.Id;
                (answer, callHandle) = worker.Connection.HandleHttpBuffered(new HttpBufferedRequest { Head = head }, callToken);
                upload = s_noUpload;
            }
            else
            {
                callCancel = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token);
                callToken = callCancel.Token;
                var call = worker.Connection.Plugin.HandleHttp(cancellationToken: callToken);
                // The head waits for the first body frame (or the end) to share its flush.
                call.RequestStream.WriteOptions = new WriteOptions(WriteFlags.BufferHint);
                await call.RequestStream.WriteAsync(new HttpRequestFrame { Head = head }, deadline.Token).ConfigureAwait(false);
                call.RequestStream.WriteOptions = null;

                // Without a body the request side closes at once: a stream the client
                // leaves half-open is reset at disposal, and Kestrel answers floods
                // of resets with ENHANCE_YOUR_CALM.
                upload = canHaveBody
                    ? RouteExchange.PumpRequestAsync(rest, call.RequestStream, maxBody, callCancel, () => bodyTooLarge = true)
                    : RouteExchange.EndWithoutBodyAsync(call.RequestStream, callToken);
                (answer, callHandle) = (call.ResponseStream, call);
            }

            if (!options.Value.SameOriginPlugins.Contains(id))
            {
                context.Response.Headers.Append(HeaderNames.ContentSecurityPolicy, HeaderPolicy.PluginSandbox);
            }

            using (callHandle)
            {
                responseStarted = await RouteExchange.RelayResponseAsync(context, answer, deadline, options.Value.RouteIdleTimeout, () => responseStarted = true, callToken).ConfigureAwait(false);

                // A plugin may answer before it read the whole body (as any HTTP server may);
                // the upload then fails against a finished call, which is not an error of the call.
                _ = await upload.ConfigureAwait(false);
            }

            if (!responseStarted)
            {
                throw new RpcException(new Status(StatusCode.Internal, "the plugin ended the call without a response head"));
            }

            failureRuns.Answered(id, CallSide.Route, context.Response.StatusCode);
            return "ok";
        }
        catch (Exception ex) when (ex is RpcException or OperationCanceledException or IOException or InvalidOperationException or BadHttpRequestException)
        {
            // Stopped before anything is written: the plugin's read must not race the answer.
            await EndPullAsync(pulled).ConfigureAwait(false);
            if (bodyTooLarge && !responseStarted)
            {
                await RouteProblem.WriteAsync(context, 413, "too-large", "Request body too large", $"Plugin '{id}' accepts at most {maxBody} bytes.").ConfigureAwait(false);
                return "too-large";
            }

            if (deadline.CallerCancelled || ex is BadHttpRequestException)
            {
                return "client-cancelled";
            }

            var failure = RpcFailureClassifier.Classify(id, ex, deadline, worker);
            reporter.Report(failure, $"route {method} {path}", ex is RpcException ? null : ex);
            failureRuns.Failed(failure, CallSide.Route);
            if (responseStarted)
            {
                // Status is already on the wire: the only honest signal left is an aborted response.
                context.Abort();
            }
            else
            {
                await RouteProblem.WriteAsync(context, failure).ConfigureAwait(false);
            }

            return failure.Kind.ToString();
        }
        finally
        {
            // Every exit: no offer outlives its route call (the copy is stopped and waited for).
            await EndPullAsync(pulled).ConfigureAwait(false);
            callCancel?.Dispose();
        }
    }

    /// <summary>The request's head as the plugin sees it; a WebSocket's handshake headers are the host's own.</summary>
    private static HttpRequestHead HeadOf(HttpContext context, string id, string path, string method, bool anonymous, string tenant, bool webSocket)
    {
        var head = new HttpRequestHead
        {
            Method = method,
            Path = path,
            Query = context.Request.QueryString.Value ?? string.Empty,
            User = anonymous ? string.Empty : context.User.Identity?.Name ?? string.Empty,
            Traceparent = Activity.Current?.Id ?? string.Empty,
            TenantId = tenant,
        };
        // Under the application's PathBase, so that links a plugin makes from it lead back to it.
        foreach (var (name, value) in HeaderPolicy.ForRequest(context.Request, $"{context.Request.PathBase}/plugins/{id}"))
        {
            if (!webSocket || !name.StartsWith("sec-websocket-", StringComparison.Ordinal))
            {
                head.Headers.Add(new HttpHeader { Name = name, Value = value });
            }
        }

        return head;
    }

    /// <summary>Withdraws a body offered to the plugin, waiting for a read in progress to stop.</summary>
    private static ValueTask EndPullAsync(PulledBody? pulled) => pulled?.DisposeAsync() ?? ValueTask.CompletedTask;

    /// <summary>Runs the routes' policy as the authorization middleware would: authenticate, authorize, challenge or forbid.</summary>
    private async Task<bool> AuthorizeAsync(HttpContext context)
    {
        var policy = await policies.GetPolicyAsync(PluginHostPolicies.Routes).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"The authorization policy '{PluginHostPolicies.Routes}' is not defined; AddPluginHost defines it.");
        var authentication = await evaluator.AuthenticateAsync(policy, context).ConfigureAwait(false);
        // The request as the resource, as the authorization middleware passes it: a policy may judge by its method.
        var result = await evaluator.AuthorizeAsync(policy, authentication, context, resource: context).ConfigureAwait(false);
        if (result.Succeeded)
        {
            return true;
        }

        // As the authorization middleware answers: through the policy's own schemes when it names
        // any (a host's bearer scheme must send its own WWW-Authenticate), else the default one.
        if (policy.AuthenticationSchemes.Count == 0)
        {
            await (result.Challenged ? context.ChallengeAsync() : context.ForbidAsync()).ConfigureAwait(false);
        }

        foreach (var scheme in policy.AuthenticationSchemes)
        {
            await (result.Challenged ? context.ChallengeAsync(scheme) : context.ForbidAsync(scheme)).ConfigureAwait(false);
        }

        return false;
    }
}
