using System.Net.Sockets;
using GrpcPlugins.Supervisor.Limits;
using Microsoft.AspNetCore.Connections;

namespace GrpcPlugins.Host.Callback;

/// <summary>
/// The process group of the process at the other end of a callback connection, known from
/// the socket itself (SO_PEERCRED), not from anything the caller says. Read once a
/// connection, kept in its items for the calls on it.
/// </summary>
internal static class PeerProcessGroup
{
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;
    private static readonly object s_key = new();

    /// <summary>The peer's process group, remembered for the connection; null off a Unix socket or when unknown.</summary>
    public static int? Of(ConnectionContext connection)
    {
        if (connection.Items.TryGetValue(s_key, out var known))
        {
            return (int?)known;
        }

        var group = connection.Features.Get<Microsoft.AspNetCore.Connections.Features.IConnectionSocketFeature>()?.Socket is { AddressFamily: AddressFamily.Unix } socket
            ? Read(socket)
            : null;
        connection.Items[s_key] = group;
        return group;
    }

    /// <summary>What <see cref="Of(ConnectionContext)"/> remembered for the connection a request came on.</summary>
    public static int? Remembered(IDictionary<object, object?>? connectionItems) =>
        connectionItems is not null && connectionItems.TryGetValue(s_key, out var known) ? (int?)known : null;

    private static int? Read(Socket socket)
    {
        // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
        Span<byte> credentials = stackalloc byte[12];
        return socket.GetRawSocketOption(SolSocket, SoPeerCred, credentials) >= 4
            && BitConverter.ToInt32(credentials) is var pid and > 0
            ? ProcessTreeMemory.ReadGroup(pid)
            : null;
    }
}
