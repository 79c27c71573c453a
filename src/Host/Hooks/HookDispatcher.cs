using System.Diagnostics;
using Google.Protobuf;
using GrpcPlugins.Host.Calls;
using GrpcPlugins.Protocol.V1;

namespace GrpcPlugins.Host.Hooks;

/// <summary>
/// Runs a hook point: plugins in order, body and headers threaded forward, the
/// first short-circuit wins. Failures are values, reported once, and mapped by
/// the point's mode: skipped (fail-open) or the call's answer (fail-closed).
/// </summary>
internal sealed class HookDispatcher(IHookTargets targets, CallFailureReporter reporter, CallFailureRuns failureRuns, PluginMetrics metrics, TimeProvider time) : IHookDispatcher
{
    public async ValueTask<HookOutcome> DispatchAsync(HookPoint point, HookInput input, CancellationToken cancellationToken = default)
    {
        var body = input.Context.IsStreaming ? ReadOnlyMemory<byte>.Empty : input.Body;
        var contentType = input.ContentType;
        var headers = new Dictionary<string, string>(input.Headers, StringComparer.OrdinalIgnoreCase);
        List<CallFailure>? skipped = null;
        var context = ToProto(input.Context);

        foreach (var target in targets.For(point.Name))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var match = target.Match;
            if (!match.Accepts(input.Context.RouteId, input.Context.Method, contentType) || !target.TakesTenant(input.Context.TenantId))
            {
                // Not this plugin's traffic (its manifest's match, or a tenant an admin keeps it from): no call, as if it continued.
                continue;
            }

            var request = new HookRequest { Point = point.Name, Context = context, Body = match.HeadersOnly ? ByteString.Empty : UnsafeByteOperations.UnsafeWrap(body), ContentType = contentType };
            request.Headers.Add(headers);

            var started = time.GetTimestamp();
            HookTargetResult result;
            using (var deadline = new CallDeadline(target.CallTimeout ?? point.Deadline, time, cancellationToken))
            {
                result = await target.InvokeAsync(request, deadline).ConfigureAwait(false);
                if (deadline.CallerCancelled)
                {
                    // The caller left: nobody's fault, nothing to report.
                    cancellationToken.ThrowIfCancellationRequested();
                }
            }

            var outcomeTag = result.Failure?.Kind.ToString() ?? result.Response!.DecisionCase.ToString();
            var tags = new TagList { { "plugin", target.PluginId }, { "point", point.Name }, { "outcome", outcomeTag } };
            metrics.HookCalls.Add(1, tags);
            metrics.HookDuration.Record(time.GetElapsedTime(started).TotalSeconds, tags);

            // An answer the embedding application could not put on the wire is the plugin's error,
            // found here rather than as an exception in the application's own response code.
            if (result.Failure is null && AnswerProblem(result.Response!) is { } problem)
            {
                result = new HookTargetResult(null, new CallFailure(target.PluginId, CallFailureKind.Errored, "the hook's answer is not valid HTTP: " + problem));
            }
            else if (result.Failure is null && match.HeadersOnly && result.Response!.Modify is { ReplaceBody: true })
            {
                result = new HookTargetResult(null, new CallFailure(target.PluginId, CallFailureKind.Errored,
                    "the hook's answer replaces the body, but its match is headers only, so it was never sent the body: drop headersOnly from the plugin's match, or answer without replacing the body"));
            }

            if (result.Failure is { } failure)
            {
                reporter.Report(failure, $"hook '{point.Name}'");
                failureRuns.Failed(failure, CallSide.Hook);
                if (point.FailureMode == HookFailureMode.FailClosed)
                {
                    return new HookOutcome.Failed(failure, skipped ?? []);
                }

                (skipped ??= []).Add(failure);
                continue;
            }

            failureRuns.Answered(target.PluginId, CallSide.Hook);
            var response = result.Response!;
            switch (response.DecisionCase)
            {
                case HookResponse.DecisionOneofCase.ShortCircuit:
                    var sc = response.ShortCircuit;
                    return new HookOutcome.ShortCircuited(target.PluginId, sc.StatusCode, sc.Body.Memory, sc.ContentType, sc.Headers, skipped ?? []);
                case HookResponse.DecisionOneofCase.Modify:
                    var modify = response.Modify;
                    if (modify.ReplaceBody && !input.Context.IsStreaming)
                    {
                        body = modify.Body.Memory;
                    }

                    if (modify.ContentType.Length > 0)
                    {
                        contentType = modify.ContentType;
                    }

                    foreach (var (name, value) in modify.SetHeaders)
                    {
                        if (value.Length == 0)
                        {
                            headers.Remove(name);
                        }
                        else
                        {
                            headers[name] = value;
                        }
                    }

                    break;
            }
        }

        return new HookOutcome.Continued(body, contentType, headers, skipped ?? []);
    }

    private static string? AnswerProblem(HookResponse response) => response.DecisionCase switch
    {
        HookResponse.DecisionOneofCase.ShortCircuit => Routing.HttpFieldSyntax.StatusProblem(response.ShortCircuit.StatusCode)
            ?? HeadersProblem(response.ShortCircuit.Headers, response.ShortCircuit.ContentType),
        HookResponse.DecisionOneofCase.Modify => HeadersProblem(response.Modify.SetHeaders, response.Modify.ContentType),
        _ => null,
    };

    // On every hook answer: a loop over the (usually empty) map, where LINQ allocated ~110 B a call.
    private static string? HeadersProblem(Google.Protobuf.Collections.MapField<string, string> headers, string contentType)
    {
        if (headers.Count > 0)
        {
            foreach (var (name, value) in headers)
            {
                if (Routing.HttpFieldSyntax.HeaderProblem(name, value) is { } problem)
                {
                    return problem;
                }
            }
        }

        return contentType.Length == 0 ? null : Routing.HttpFieldSyntax.HeaderProblem("content-type", contentType);
    }

    private static Protocol.V1.HookContext ToProto(HookCallContext context)
    {
        var proto = new Protocol.V1.HookContext
        {
            RouteId = context.RouteId,
            TenantId = context.TenantId,
            ProviderId = context.ProviderId,
            IsStreaming = context.IsStreaming,
            Direction = context.Direction switch
            {
                HookDirection.Inbound => Direction.Inbound,
                HookDirection.Outbound => Direction.Outbound,
                _ => Direction.Unspecified,
            },
            Traceparent = Activity.Current?.Id ?? string.Empty,
            Method = context.Method,
            Path = context.Path,
            Query = context.Query,
            StatusCode = context.StatusCode,
            User = context.User,
        };
        if (context.Properties is not null)
        {
            proto.Properties.Add(context.Properties.ToDictionary());
        }

        return proto;
    }
}
