using System.Diagnostics;
using System.Net.Sockets;

namespace GrpcPlugins.Benchmarks;

/// <summary>
/// The floor under every round trip: one byte to a child process over a Unix socket
/// and back, on blocking threads, with no runtime scheduling in between. Measured in
/// the same run as the hooks, back to back and after the threads have slept, because
/// this machine's wake-up cost moves both.
/// </summary>
internal static class PingPong
{
    public const string ChildCommand = "pingpong-echo";

    /// <summary>The child: echoes every byte until the parent closes the socket.</summary>
    public static void RunEcho(string socketPath)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(socketPath));
        var buffer = new byte[1];
        while (socket.Receive(buffer) == 1)
        {
            socket.Send(buffer);
        }
    }

    /// <summary>Round trips in µs, one list per pause before each (0 = back to back).</summary>
    public static List<List<double>> Measure(IReadOnlyList<TimeSpan> pauses, int count)
    {
        var directory = Directory.CreateTempSubdirectory("pingpong-");
        var path = Path.Combine(directory.FullName, "s");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        var start = new ProcessStartInfo(Environment.ProcessPath!);
        start.ArgumentList.Add(typeof(PingPong).Assembly.Location);
        start.ArgumentList.Add(ChildCommand);
        start.ArgumentList.Add(path);
        using var child = Process.Start(start)!;
        try
        {
            // A child that fails to start must not leave the benchmark waiting forever.
            if (!listener.Poll(TimeSpan.FromSeconds(30), SelectMode.SelectRead))
            {
                throw new InvalidOperationException("the ping-pong child did not connect within 30 s");
            }

            using var socket = listener.Accept();
            var buffer = new byte[1];
            var results = new List<List<double>>();
            foreach (var pause in pauses)
            {
                var samples = new List<double>(count);
                for (var i = 0; i < count + 100; i++)
                {
                    if (pause > TimeSpan.Zero)
                    {
                        Thread.Sleep(pause);
                    }

                    var sent = Stopwatch.GetTimestamp();
                    socket.Send(buffer);
                    socket.Receive(buffer);
                    if (i >= 100)
                    {
                        samples.Add(Stopwatch.GetElapsedTime(sent).TotalMicroseconds);
                    }
                }

                results.Add(samples);
            }

            socket.Shutdown(SocketShutdown.Both);
            return results;
        }
        finally
        {
            if (!child.WaitForExit(TimeSpan.FromSeconds(5)))
            {
                child.Kill();
            }

            directory.Delete(recursive: true);
        }
    }
}
