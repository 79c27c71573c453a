using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using GrpcPlugins.Protocol;

namespace GrpcPlugins.Functional.Tests.Infrastructure;

/// <summary>
/// The test plugin run as an attached worker, the way a container would run it: started by
/// the test, not the host, serving mutual TLS on a TCP port. Disposing kills it and removes
/// its temp directory, where its runtime left the files a killed process cannot remove.
/// </summary>
internal sealed class AttachedWorker : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _temp;

    private AttachedWorker(Process process, string temp, int port, ConcurrentQueue<string> stderr)
    {
        _process = process;
        _temp = temp;
        Port = port;
        Stderr = stderr;
    }

    public int Port { get; }

    public int Pid => _process.Id;

    public ConcurrentQueue<string> Stderr { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>Starts the worker and waits until it says it serves; throws with its stderr when it exits first.</summary>
    public static Task<AttachedWorker> StartAsync(string id, int port, (string Certificate, string Key) identity, string clientCaPath, string mode = "normal") =>
        StartAsync(["dotnet", TestPaths.TestPlugin, mode], id, port, identity, clientCaPath);

    /// <summary>Starts <paramref name="command"/> (a program and its arguments) as an attached worker.</summary>
    public static async Task<AttachedWorker> StartAsync(IReadOnlyList<string> command, string id, int port, (string Certificate, string Key) identity, string clientCaPath)
    {
        var start = new ProcessStartInfo(command[0]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in command.Skip(1))
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment[HandshakeEnvironment.AttachListen] = $"127.0.0.1:{port}";
        start.Environment[HandshakeEnvironment.TlsCertificate] = identity.Certificate;
        start.Environment[HandshakeEnvironment.TlsKey] = identity.Key;
        start.Environment[HandshakeEnvironment.TlsClientCa] = clientCaPath;
        start.Environment[HandshakeEnvironment.PluginId] = id;
        var temp = Directory.CreateTempSubdirectory("gpt-attached-").FullName;
        start.Environment["TMPDIR"] = temp;
        var process = Process.Start(start)!;
        var stderr = new ConcurrentQueue<string>();
        var serving = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.ErrorDataReceived += (_, line) =>
        {
            if (line.Data is { } data)
            {
                stderr.Enqueue(data);
                // The Sdk's line, or the Python example's.
                if (data.StartsWith("serving plugin", StringComparison.Ordinal) || data.Contains(" serving attached on ", StringComparison.Ordinal))
                {
                    serving.TrySetResult();
                }
            }
        };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        try
        {
            await Task.WhenAny(serving.Task, process.WaitForExitAsync()).WaitAsync(TimeSpan.FromSeconds(30));
            if (!serving.Task.IsCompleted)
            {
                throw new InvalidOperationException($"the attached worker exited before it served: {string.Join(" | ", stderr)}");
            }

            return new AttachedWorker(process, temp, port, stderr);
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            process.Dispose();
            Directory.Delete(temp, recursive: true);
            throw;
        }
    }

    /// <summary>Kills it, as a crashed container or a lost node would end it.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
        Directory.Delete(_temp, recursive: true);
    }
}
