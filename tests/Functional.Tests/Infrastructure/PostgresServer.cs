using System.Diagnostics;
using Npgsql;

namespace GrpcPlugins.Functional.Tests.Infrastructure;

/// <summary>
/// A private PostgreSQL server for one test class: Debian's server binaries, a fresh cluster in
/// a temp directory, reached only through a Unix socket in that directory (no TCP port). It is
/// started under a shell that stops it when the test process's pipe to it closes, so not even
/// a test run killed with -9 leaves a server behind. Each test takes a database of its own.
/// </summary>
public sealed class PostgresServer : IDisposable
{
    private readonly string _directory;
    private readonly Process _server;

    /// <summary>A server for tests: no fsync, commits acknowledged before their WAL is flushed.</summary>
    public PostgresServer()
        : this(durable: false)
    {
    }

    private PostgresServer(bool durable, (string Certificate, string Key)? tls = null)
    {
        var bin = FindBinaries();
        _directory = Directory.CreateTempSubdirectory("gpt-pg-").FullName;
        var data = Path.Combine(_directory, "data");
        // The server refuses to run as root; CI and this sandbox run tests as root.
        var asRoot = Environment.UserName == "root";
        var drop = asRoot ? "setpriv --reuid=postgres --regid=postgres --init-groups " : string.Empty;
        if (asRoot)
        {
            Run("chown", $"postgres: {_directory}");
        }

        Run("bash", "-c", $"{drop}{bin}/initdb -D '{data}' -U postgres --auth=trust -E UTF8 --no-sync > '{_directory}/initdb.log' 2>&1 || {{ cat '{_directory}/initdb.log' >&2; exit 1; }}");
        var listen = "-h ''";
        if (tls is var (certificate, key))
        {
            // As a managed PostgreSQL: TCP on loopback, TLS or nothing (the socket stays for making databases).
            Port = LoopbackPort.Free();
            File.Copy(certificate, Path.Combine(_directory, "server.crt"));
            File.Copy(key, Path.Combine(_directory, "server.key"));
            File.SetUnixFileMode(Path.Combine(_directory, "server.key"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
            if (asRoot)
            {
                Run("chown", $"postgres: {_directory}/server.crt {_directory}/server.key");
            }

            File.WriteAllText(Path.Combine(data, "pg_hba.conf"), "local all all trust\nhostssl all all 127.0.0.1/32 trust\n");
            listen = $"-h 127.0.0.1 -p {Port} -c ssl=on -c ssl_cert_file='{_directory}/server.crt' -c ssl_key_file='{_directory}/server.key'";
        }

        _server = Process.Start(new ProcessStartInfo("bash")
        {
            ArgumentList =
            {
                "-c",
                $"{drop}{bin}/postgres -D '{data}' -k '{_directory}' {listen} {(durable ? string.Empty : "-c fsync=off -c synchronous_commit=off ")}-c max_connections=200 > '{_directory}/server.log' 2>&1 & p=$!; read -r _; kill -INT $p; wait $p",
            },
            RedirectStandardInput = true,
            UseShellExecute = false,
        })!;
        ConnectionString = new NpgsqlConnectionStringBuilder { Host = _directory, Port = Port ?? 5432, Username = "postgres", Database = "postgres", Pooling = false }.ConnectionString;
        WaitUntilAccepting();
    }

    /// <summary>A server that flushes as a production one does (PostgreSQL's defaults), for the benchmark.</summary>
    public static PostgresServer Durable() => new(durable: true);

    /// <summary>A server that takes TCP connections on 127.0.0.1 with TLS only (its certificate and key, PEM), as a managed PostgreSQL does.</summary>
    public static PostgresServer WithTls(string certificate, string key) => new(durable: false, (certificate, key));

    /// <summary>The TCP port of a server <see cref="WithTls"/>; null for one on its Unix socket only.</summary>
    public int? Port { get; }

    /// <summary><paramref name="database"/>'s connection string over TCP to 127.0.0.1 with <paramref name="tls"/> added (SSL Mode and Root Certificate).</summary>
    public string OverTcp(string database, string tls) =>
        new NpgsqlConnectionStringBuilder(database) { Host = "127.0.0.1", Port = Port ?? throw new InvalidOperationException("This server has no TCP port; start it WithTls.") }.ConnectionString + ";" + tls;

    /// <summary>The server's own "postgres" database, for making others.</summary>
    public string ConnectionString { get; }

    /// <summary>The server's log, for a failing test's message.</summary>
    public string Log => File.Exists(Path.Combine(_directory, "server.log")) ? File.ReadAllText(Path.Combine(_directory, "server.log")) : string.Empty;

    /// <summary>A new empty database; its connection string.</summary>
    public string CreateDatabase()
    {
        var name = "t_" + Guid.NewGuid().ToString("N");
        using (var connection = new NpgsqlConnection(ConnectionString))
        {
            connection.Open();
            using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            command.ExecuteNonQuery();
        }

        return new NpgsqlConnectionStringBuilder(ConnectionString) { Database = name, Pooling = true }.ConnectionString;
    }

    /// <summary>Ends every connection to the server but this one's own (a lost network, as the host sees it).</summary>
    public void DropConnections(string database)
    {
        using var connection = new NpgsqlConnection(ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = @d AND pid <> pg_backend_pid()", connection);
        command.Parameters.AddWithValue("d", new NpgsqlConnectionStringBuilder(database).Database!);
        command.ExecuteScalar();
    }

    /// <summary>Lets connections to <paramref name="database"/> in or not (a database under maintenance, as a host sees it).</summary>
    public void AllowConnections(string database, bool allowed)
    {
        using var connection = new NpgsqlConnection(ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand($"ALTER DATABASE {new NpgsqlConnectionStringBuilder(database).Database} ALLOW_CONNECTIONS {(allowed ? "true" : "false")}", connection);
        command.ExecuteNonQuery();
    }

    public void Dispose()
    {
        try
        {
            _server.StandardInput.Close();
            if (!_server.WaitForExit(10_000))
            {
                _server.Kill(entireProcessTree: true);
            }
        }
        finally
        {
            _server.Dispose();
            Directory.Delete(_directory, recursive: true);
        }
    }

    private void WaitUntilAccepting()
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var connection = new NpgsqlConnection(ConnectionString);
                connection.Open();
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or System.Net.Sockets.SocketException && deadline.Elapsed < TimeSpan.FromSeconds(30))
            {
                if (_server.HasExited)
                {
                    throw new InvalidOperationException($"PostgreSQL did not start: {Log}");
                }

                Thread.Sleep(50);
            }
        }
    }

    private static string FindBinaries() =>
        Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "postgres"))).OrderByDescending(d => d, StringComparer.Ordinal).FirstOrDefault()
                ?? throw new InvalidOperationException("No PostgreSQL server under /usr/lib/postgresql/*/bin; 'make deps' installs Debian's postgresql.")
            : throw new InvalidOperationException("No PostgreSQL server under /usr/lib/postgresql; 'make deps' installs Debian's postgresql.");

    private static void Run(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments.Length == 1 ? arguments[0].Split(' ') : arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} failed ({process.ExitCode}): {error}");
        }
    }
}
