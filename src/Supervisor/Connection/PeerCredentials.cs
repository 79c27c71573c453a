using System.Net.Sockets;

namespace GrpcPlugins.Protocol;

/// <summary>The process at the other end of a Unix socket, from the kernel (SO_PEERCRED), not from anything it says.</summary>
internal static class PeerCredentials
{
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;

    /// <summary>The peer's pid, or null when the socket cannot say (not a Unix socket, another pid namespace).</summary>
    public static int? PidOf(Socket socket)
    {
        if (socket.AddressFamily != AddressFamily.Unix)
        {
            return null;
        }

        // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
        Span<byte> credentials = stackalloc byte[12];
        return socket.GetRawSocketOption(SolSocket, SoPeerCred, credentials) >= 4 && BitConverter.ToInt32(credentials) is var pid and > 0 ? pid : null;
    }
}
