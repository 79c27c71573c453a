using Grpc.Core;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Host.Routes;
using GrpcPlugins.Protocol;
using GrpcPlugins.Protocol.V1;
using GrpcPlugins.Supervisor.Supervision;
using GrpcPlugins.Supervisor.Workers;
using Microsoft.Extensions.DependencyInjection;

namespace GrpcPlugins.Functional.Tests;

/// <summary>
/// PluginHost.ReadHttpBody as any plugin, in any language, meets it on the host's real
/// callback socket: a body is its own plugin's, read once, only while its route call lasts.
/// </summary>
public sealed class ReadHttpBodyTests
{
    [Fact]
    public async Task ABody_IsReadOnlyByItsPlugin_Once_WhileItsCallLasts()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("a"), PluginFolders.Test("b"));
        await Task.WhenAll(host.WaitForStateAsync("a", WorkerState.Ready), host.WaitForStateAsync("b", WorkerState.Ready));
        // Tokens of our own for the two plugins, so this test can call as either.
        var tokens = host.Services.GetRequiredService<TokenRegistry>();
        tokens.Add("token-of-a", "a");
        tokens.Add("token-of-b", "b");
        var callback = Directory.GetFiles(host.Root, "host.sock", SearchOption.AllDirectories).Single();
        using var channel = UnixSocketChannel.Create(callback);
        var client = new PluginHost.PluginHostClient(channel);
        var sent = Enumerable.Range(0, 200_000).Select(i => (byte)(i * 7)).ToArray();
        using var routeCall = new CancellationTokenSource();
        var offer = host.Services.GetRequiredService<PulledBodies>().Offer("a", new MemoryStream(sent), maxBody: long.MaxValue, routeCall, () => { });

        var asOther = await ReadAsync(client, offer.Id, "token-of-b");
        var forged = await ReadAsync(client, offer.Id, "forged");
        var asOwner = await ReadAsync(client, offer.Id, "token-of-a");
        var again = await ReadAsync(client, offer.Id, "token-of-a");
        await offer.DisposeAsync();
        var afterTheCall = await ReadAsync(client, offer.Id, "token-of-a");

        Assert.Equal(StatusCode.NotFound, asOther.Status);
        Assert.Contains("waiting for plugin 'b'", asOther.Detail, StringComparison.Ordinal);
        Assert.Equal(StatusCode.Unauthenticated, forged.Status);
        Assert.Equal(StatusCode.OK, asOwner.Status);
        Assert.Equal(sent, asOwner.Bytes);
        Assert.Equal(StatusCode.FailedPrecondition, again.Status);
        Assert.Equal(StatusCode.NotFound, afterTheCall.Status);
    }

    private static async Task<(StatusCode Status, string Detail, byte[] Bytes)> ReadAsync(PluginHost.PluginHostClient client, string bodyId, string token)
    {
        using var call = client.ReadHttpBody(new ReadHttpBodyRequest { BodyId = bodyId }, new Metadata { { HandshakeEnvironment.TokenMetadataKey, token } });
        using var bytes = new MemoryStream();
        try
        {
            await foreach (var chunk in call.ResponseStream.ReadAllAsync())
            {
                Assert.False(chunk.Data.IsEmpty, "a chunk is never empty");
                bytes.Write(chunk.Data.Span);
            }
        }
        catch (RpcException ex)
        {
            return (ex.StatusCode, ex.Status.Detail, bytes.ToArray());
        }

        return (StatusCode.OK, string.Empty, bytes.ToArray());
    }
}
