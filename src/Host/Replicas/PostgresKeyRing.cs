using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Npgsql;

namespace GrpcPlugins.Host.Replicas;

/// <summary>
/// The key ring that seals secret settings, in the shared store: a secret one replica sealed
/// must open on every other. Data Protection asks for it synchronously, rarely (at start, when
/// a key is made, and when a payload names a key it has not seen: another replica's new one).
/// Its keys are as readable as the database is; so are the sealed values, which is why the
/// database's own access control is what protects them.
/// </summary>
internal sealed class PostgresKeyRing(NpgsqlDataSource dataSource, TimeProvider time) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var command = dataSource.CreateCommand("SELECT xml FROM key_ring ORDER BY added_at, name");
        using var reader = command.ExecuteReader();
        var elements = new List<XElement>();
        while (reader.Read())
        {
            elements.Add(XElement.Parse(reader.GetString(0)));
        }

        return elements;
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        using var command = dataSource.CreateCommand("INSERT INTO key_ring (name, xml, added_at) VALUES (@n, @x, @a) ON CONFLICT (name) DO NOTHING");
        command.Parameters.AddWithValue("n", friendlyName);
        command.Parameters.AddWithValue("x", element.ToString(SaveOptions.DisableFormatting));
        command.Parameters.AddWithValue("a", time.GetUtcNow());
        command.ExecuteNonQuery();
    }
}
