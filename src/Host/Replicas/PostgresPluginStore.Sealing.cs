using GrpcPlugins.Host.Settings;

namespace GrpcPlugins.Host.Replicas;

/// <summary>
/// Sealing stored values that became secret after they were written. No notice: the values do not
/// change, and every replica opens what another sealed.
/// </summary>
internal sealed partial class PostgresPluginStore
{
    public async Task<int> SealStoredAsync(string pluginId, Func<string, string> seal, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var rewritten = await StoredSeal.RunAsync(connection, transaction, pluginId, seal, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return rewritten;
    }
}
