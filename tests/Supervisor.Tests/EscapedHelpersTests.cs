using System.Diagnostics;
using GrpcPlugins.Supervisor.Processes;

namespace GrpcPlugins.Supervisor.Tests;

public sealed class EscapedHelpersTests
{
    [Fact]
    public async Task AProcessCarryingTheToken_IsFoundAndKilled_OneWithAnotherTokenOrAPrefixOfItIsLeftAlone()
    {
        var token = Guid.NewGuid().ToString("N");
        using var holder = Sleeper(token);
        using var other = Sleeper(token + "x");
        try
        {
            var found = EscapedHelpers.Find("GP_TEST_TOKEN", token);
            var killed = EscapedHelpers.Kill("GP_TEST_TOKEN", token);
            await holder.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));

            Assert.Equal([holder.Id], found);
            Assert.Equal([holder.Id], killed);
            Assert.False(other.HasExited);
            Assert.Empty(EscapedHelpers.Find("GP_TEST_TOKEN", token));
        }
        finally
        {
            holder.Kill();
            other.Kill();
        }
    }

    private static Process Sleeper(string token)
    {
        var start = new ProcessStartInfo("sleep", "60") { UseShellExecute = false };
        start.Environment["GP_TEST_TOKEN"] = token;
        return Process.Start(start)!;
    }
}
