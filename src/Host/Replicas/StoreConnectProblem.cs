using System.Security.Authentication;
using Npgsql;

namespace GrpcPlugins.Host.Replicas;

/// <summary>
/// Why a starting host cannot reach its PostgreSQL store, and whether waiting may help: a
/// server still starting or a network not up yet may come, a refused login or a server
/// certificate this host does not trust will not, and the host says so at once rather than
/// after <see cref="Hosting.StoreOptions.ConnectTimeout"/> of retries.
/// </summary>
internal sealed record StoreConnectProblem(bool Lasting, string Said)
{
    public static StoreConnectProblem Of(Exception exception)
    {
        if (Find<AuthenticationException>(exception) is { } tls)
        {
            return new(true, $"TLS with the server failed ({Messages(tls)}). Check the connection string's SSL Mode and Root Certificate: the CA file that signed the server's certificate, whose names must include the Host the string gives.");
        }

        if (Find<PostgresException>(exception) is { SqlState: var state } refused && state.StartsWith("28", StringComparison.Ordinal))
        {
            return new(true, $"the server refused this host's login ({refused.MessageText}, SQLSTATE {state}). Check Username and Password, and that the server's pg_hba.conf lets this host in; a 'hostssl' line there needs SSL Mode=Require or stricter.");
        }

        return new(false, $"{Messages(exception)}. Check that the server is up, that the database exists and that the user may create tables in it.");
    }

    private static T? Find<T>(Exception exception)
        where T : Exception
    {
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            if (current is T found)
            {
                return found;
            }
        }

        return null;
    }

    // Npgsql's outer message ("Exception while connecting") says little; the causes say what.
    private static string Messages(Exception exception)
    {
        var said = new List<string>();
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            var message = current is PostgresException pg ? $"{pg.MessageText} (SQLSTATE {pg.SqlState})" : current.Message.TrimEnd('.');
            if (!said.Contains(message, StringComparer.Ordinal))
            {
                said.Add(message);
            }
        }

        return string.Join(": ", said);
    }
}
