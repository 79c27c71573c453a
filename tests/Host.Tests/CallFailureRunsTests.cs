using GrpcPlugins.Host.Calls;

namespace GrpcPlugins.Host.Tests;

public sealed class CallFailureRunsTests
{
    [Fact]
    public void FailuresAndServerErrorsInARow_RaiseFailingOnce_AndAnyOtherAnswerStartsTheCountAgain()
    {
        var runs = new CallFailureRuns();
        var raised = new List<(string, string)>();
        runs.Failing += (id, why) => raised.Add((id, why));
        using var watch = runs.Watch("p", 3);

        runs.Failed(new CallFailure("p", CallFailureKind.Errored, "boom"), CallSide.Route);
        runs.Answered("p", CallSide.Route, 503);
        runs.Answered("p", CallSide.Route, 404);
        runs.Failed(new CallFailure("p", CallFailureKind.TimedOut, "late"), CallSide.Route);
        runs.Answered("p", CallSide.Route, 500);
        var beforeThird = raised.Count;
        runs.Failed(new CallFailure("p", CallFailureKind.Crashed, "died"), CallSide.Route);
        runs.Failed(new CallFailure("p", CallFailureKind.Crashed, "died again"), CallSide.Route);

        Assert.Equal(0, beforeThird);
        var (id, why) = Assert.Single(raised);
        Assert.Equal("p", id);
        Assert.Equal("3 route calls in a row failed, the last as Crashed: died", why);
    }

    [Fact]
    public void HooksAndRoutes_CountApart_SoRoutesThatAnswerDoNotHideHooksThatFail()
    {
        var runs = new CallFailureRuns();
        var raised = new List<string>();
        runs.Failing += (_, why) => raised.Add(why);
        using var watch = runs.Watch("p", 2);

        runs.Failed(new CallFailure("p", CallFailureKind.Errored, "hook threw"), CallSide.Hook);
        runs.Answered("p", CallSide.Route);
        runs.Failed(new CallFailure("p", CallFailureKind.Errored, "route threw"), CallSide.Route);
        runs.Failed(new CallFailure("p", CallFailureKind.Errored, "hook threw again"), CallSide.Hook);

        Assert.Equal(["2 hook calls in a row failed, the last as Errored: hook threw again"], raised);
    }

    [Fact]
    public void CallsTheHostNeverMade_AndPluginsNoOneWatches_CountForNothing()
    {
        var runs = new CallFailureRuns();
        var raised = 0;
        runs.Failing += (_, _) => raised++;
        var watch = runs.Watch("p", 1);

        runs.Failed(new CallFailure("p", CallFailureKind.Busy, "at its limit"), CallSide.Route);
        runs.Failed(new CallFailure("p", CallFailureKind.Unavailable, "starting"), CallSide.Hook);
        runs.Failed(new CallFailure("p", CallFailureKind.CircuitOpen, "paused"), CallSide.Hook);
        runs.Failed(new CallFailure("other", CallFailureKind.Errored, "boom"), CallSide.Route);
        var whileWatched = raised;
        watch.Dispose();
        watch.Dispose();
        runs.Failed(new CallFailure("p", CallFailureKind.Errored, "boom"), CallSide.Route);

        Assert.Equal(0, whileWatched);
        Assert.Equal(0, raised);
    }
}
