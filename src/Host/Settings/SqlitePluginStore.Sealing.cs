namespace GrpcPlugins.Host.Settings;

/// <summary>Sealing stored values that became secret after they were written.</summary>
internal sealed partial class SqlitePluginStore
{
    public async Task<int> SealStoredAsync(string pluginId, Func<string, string> seal, CancellationToken cancellationToken)
    {
        using var turn = await _turns.WriteAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = Open();
        await using var transaction = connection.BeginTransaction();
        var rewritten = await StoredSeal.RunAsync(connection, transaction, pluginId, seal, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return rewritten;
    }
}
