using Npgsql;

namespace GrpcPlugins.Host.Replicas;

/// <summary>Sends a <see cref="StoreChange"/> inside the transaction that makes it, so it goes out exactly when that commits.</summary>
internal static class StoreNotices
{
    public static async Task SendAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, StoreChange change, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT pg_notify(@c, @n)", connection, transaction);
        command.Parameters.AddWithValue("c", StoreChange.Channel);
        command.Parameters.AddWithValue("n", change.ToPayload());
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
