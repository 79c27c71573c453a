using System.Data.Common;

namespace GrpcPlugins.Host.Audit;

/// <summary>Audit entries from rows (id, at, actor, remote, action, plugin_id, tenant_id, status, detail, replica), whichever store keeps them.</summary>
internal static class AuditRows
{
    /// <param name="reader">The rows.</param>
    /// <param name="at">Reads column 1, as the store keeps times.</param>
    /// <param name="cancellationToken">Stops the reading.</param>
    public static async Task<IReadOnlyList<AuditEntry>> ReadAsync(DbDataReader reader, Func<DbDataReader, DateTimeOffset> at, CancellationToken cancellationToken)
    {
        var entries = new List<AuditEntry>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            entries.Add(new AuditEntry(
                reader.GetInt64(0),
                at(reader),
                reader.GetString(2),
                reader.GetString(3),
                reader.GetString(4),
                reader.GetString(5),
                reader.GetString(6),
                reader.GetInt32(7),
                reader.GetString(8),
                reader.GetString(9)));
        }

        return entries;
    }
}
