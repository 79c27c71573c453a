using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace GrpcPlugins.Host.Callback;

/// <summary>
/// At most <c>limit</c> open connections to the host's callback socket from one worker's
/// process group. A plugin that makes a new gRPC channel per call and never disposes it
/// (a common bug, in any language) leaks one connection each time, and each is a file
/// descriptor of the host's: unbounded, the host would run out and stop accepting its own
/// clients. The peer is known from the socket itself (SO_PEERCRED), not from what it says.
/// </summary>
internal sealed partial class PeerConnectionLimit(int limit, Func<int, string?> pluginOfGroup, ILogger logger)
{
    private readonly ConcurrentDictionary<int, int> _open = new();
    private readonly ConcurrentDictionary<int, byte> _warned = new();

    public ConnectionDelegate Wrap(ConnectionDelegate next) => async connection =>
    {
        if (PeerProcessGroup.Of(connection) is not { } group)
        {
            await next(connection).ConfigureAwait(false);
            return;
        }

        if (_open.AddOrUpdate(group, 1, static (_, n) => n + 1) > limit)
        {
            Release(group);
            if (_warned.TryAdd(group, 0))
            {
                Log.TooMany(logger, pluginOfGroup(group) ?? $"process group {group}", limit);
            }

            connection.Abort(new ConnectionAbortedException($"more than {limit} connections from process group {group}"));
            return;
        }

        try
        {
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            Release(group);
        }
    };

    private void Release(int group)
    {
        if (_open.AddOrUpdate(group, 0, static (_, n) => n - 1) <= 0)
        {
            _open.TryRemove(KeyValuePair.Create(group, 0));
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2007, EventName = "TooManyHostConnections", Level = LogLevel.Warning, Message = "Plugin {Plugin} has more than {Limit} connections open to the host's PluginHost service; further ones are closed at once. It most likely creates a gRPC channel per call without disposing it: create one channel and reuse it (PluginHost:MaxHostConnectionsPerPlugin sets the limit).")]
        public static partial void TooMany(ILogger logger, string plugin, int limit);
    }
}
