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

    private static int? Read(Socket socket) =>
        GrpcPlugins.Protocol.PeerCredentials.PidOf(socket) is { } pid ? ProcessGroups.ReadGroup(pid) : null;
}
