using GrpcPlugins.Host.Calls;
using GrpcPlugins.Host.Routes;

namespace GrpcPlugins.Host.Tests;

public sealed class RouteFailureRunsTests
{
    [Fact]
    public void FailuresAndServerErrorsInARow_RaiseFailingOnce_AndAnyOtherAnswerStartsTheCountAgain()
    {
        var runs = new RouteFailureRuns();
        var raised = new List<(string, string)>();
        runs.Failing += (id, why) => raised.Add((id, why));
        using var watch = runs.Watch("p", 3);

        runs.Failed(new CallFailure("p", CallFailureKind.Errored, "boom"));
        runs.Answered("p", 503);
        runs.Answered("p", 404);
        runs.Failed(new CallFailure("p", CallFailureKind.TimedOut, "late"));
        runs.Answered("p", 500);
        var beforeThird = raised.Count;
        runs.Failed(new CallFailure("p", CallFailureKind.Crashed, "died"));
        runs.Failed(new CallFailure("p", CallFailureKind.Crashed, "died again"));

        Assert.Equal(0, beforeThird);
        var (id, why) = Assert.Single(raised);
        Assert.Equal("p", id);
        Assert.Equal("3 route calls in a row failed, the last as Crashed: died", why);
    }

    [Fact]
    public void CallsTheHostNeverMade_AndPluginsNoOneWatches_CountForNothing()
    {
        var runs = new RouteFailureRuns();
        var raised = 0;
        runs.Failing += (_, _) => raised++;
        var watch = runs.Watch("p", 1);

        runs.Failed(new CallFailure("p", CallFailureKind.Busy, "at its limit"));
        runs.Failed(new CallFailure("p", CallFailureKind.Unavailable, "starting"));
        runs.Failed(new CallFailure("other", CallFailureKind.Errored, "boom"));
        var whileWatched = raised;
        watch.Dispose();
        watch.Dispose();
        runs.Failed(new CallFailure("p", CallFailureKind.Errored, "boom"));

        Assert.Equal(0, whileWatched);
        Assert.Equal(0, raised);
    }
}
