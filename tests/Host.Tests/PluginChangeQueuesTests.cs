using GrpcPlugins.Host.Replicas;

namespace GrpcPlugins.Host.Tests;

/// <summary>The order in which another replica's changes are applied here (pure logic; the real path is in ReplicaTests).</summary>
public sealed class PluginChangeQueuesTests
{
    [Fact]
    public async Task APluginsChanges_RunInOrder_WhileAnotherPluginStuckInOne_HoldsOnlyItsOwn()
    {
        var queues = new PluginChangeQueues();
        var stuck = new TaskCompletionSource();
        var ran = new List<string>();
        queues.Enqueue("slow", async () =>
        {
            await stuck.Task;
            lock (ran) { ran.Add("slow 1"); }
        });
        queues.Enqueue("slow", () => { lock (ran) { ran.Add("slow 2"); } return Task.CompletedTask; });
        var fastDone = new TaskCompletionSource();
        queues.Enqueue("fast", async () =>
        {
            await Task.Yield();
            lock (ran) { ran.Add("fast 1"); }
        });
        queues.Enqueue("fast", () => { lock (ran) { ran.Add("fast 2"); } fastDone.SetResult(); return Task.CompletedTask; });

        await fastDone.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var drained = queues.DrainAsync();
        Assert.False(drained.IsCompleted);
        lock (ran)
        {
            Assert.Equal(["fast 1", "fast 2"], ran);
        }

        stuck.SetResult();
        await drained.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(["fast 1", "fast 2", "slow 1", "slow 2"], ran);
    }
}
