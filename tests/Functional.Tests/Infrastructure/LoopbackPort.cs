namespace GrpcPlugins.Functional.Tests.Infrastructure;

/// <summary>A TCP port on loopback for a server a test or benchmark starts (shared with the projects that link this file).</summary>
internal static class LoopbackPort
{
    /// <summary>A port free on 127.0.0.1 now: the kernel's pick for a listener, released at once.</summary>
    public static int Free()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
