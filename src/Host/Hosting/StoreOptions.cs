namespace GrpcPlugins.Host.Hosting;

/// <summary>
/// Where the host keeps its durable state. Unset, an embedded SQLite file in the state
/// directory (one host). With <see cref="PostgreSqlConnectionString"/>, a PostgreSQL database
/// that host replicas share: settings, enabled states, tenant scopes, installs, the audit trail
/// and the key ring that seals secret settings, with each change carried to the other replicas.
/// </summary>
public sealed class StoreOptions
{
    /// <summary>
    /// An Npgsql connection string, such as
    /// "Host=db.internal;Database=plugins;Username=gateway;Password=…". The database must exist;
    /// the host creates its tables in it.
    /// </summary>
    public string? PostgreSqlConnectionString { get; set; }

    /// <summary>
    /// How long a starting host keeps trying to reach PostgreSQL before it gives up with the last
    /// error (a database started beside the host may take a while). Defaults to 30 seconds.
    /// </summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How this replica names itself in the others' events and logs ("settings-changed …
    /// on host replica 'gateway-7f9c'"). Defaults to the machine's name, which is the pod's
    /// in Kubernetes.
    /// </summary>
    public string ReplicaName { get; set; } = Environment.MachineName;

    /// <summary>
    /// A certificate (PEM) the shared key ring's keys are encrypted to, with
    /// <see cref="KeyRingKeyPath"/>; the same on every replica. Unset, the keys sit in the database
    /// beside the secrets they seal, so a copy of the database opens them: the host warns at start.
    /// </summary>
    public string? KeyRingCertificatePath { get; set; }

    /// <summary>The certificate's private key (PEM, unencrypted).</summary>
    public string? KeyRingKeyPath { get; set; }

    /// <summary>
    /// How long a replica that could not follow an install made on another (a signer it does not
    /// trust yet, a dependency it lacks) waits before it tries again; each failed try doubles the
    /// wait, up to 5 minutes. The cause is usually mended on this replica with no change in the
    /// store (a trusted key mounted into the pod, a dependency followed since), so no notice would
    /// bring the install back. Defaults to 15 seconds.
    /// </summary>
    public TimeSpan FollowRetryInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>True when the host shares its state through PostgreSQL.</summary>
    internal bool IsShared => PostgreSqlConnectionString is { Length: > 0 };

    /// <summary>The key ring's certificate with its key; null when none is configured. Throws <see cref="InvalidOperationException"/> naming the file and the fix.</summary>
    internal System.Security.Cryptography.X509Certificates.X509Certificate2? LoadKeyRingCertificate()
    {
        if (KeyRingCertificatePath is not { Length: > 0 } && KeyRingKeyPath is not { Length: > 0 })
        {
            return null;
        }

        if (KeyRingCertificatePath is not { Length: > 0 } certificate || KeyRingKeyPath is not { Length: > 0 } key)
        {
            throw new InvalidOperationException("PluginHost:Store needs both KeyRingCertificatePath and KeyRingKeyPath, or neither.");
        }

        try
        {
            return System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(certificate, key);
        }
        catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"PluginHost:Store:KeyRingCertificatePath ({certificate}) with KeyRingKeyPath ({key}) cannot be loaded: {ex.Message}. Give a PEM certificate and its unencrypted PEM private key, readable by the host.", ex);
        }
    }

    /// <summary>Adds what is wrong with the section to <paramref name="errors"/>.</summary>
    internal void Check(List<string> errors)
    {
        if (ConnectTimeout <= TimeSpan.Zero)
        {
            errors.Add($"PluginHost:Store:ConnectTimeout is {ConnectTimeout}; use a positive time such as 00:00:30.");
        }

        if (FollowRetryInterval <= TimeSpan.Zero)
        {
            errors.Add($"PluginHost:Store:FollowRetryInterval is {FollowRetryInterval}; use a positive time such as 00:00:15.");
        }

        if (!IsShared)
        {
            return;
        }

        try
        {
            LoadKeyRingCertificate()?.Dispose();
        }
        catch (InvalidOperationException ex)
        {
            errors.Add(ex.Message);
        }

        if (ReplicaName is not { Length: > 0 and <= 100 } || ReplicaName.Any(char.IsControl))
        {
            errors.Add("PluginHost:Store:ReplicaName must be 1 to 100 characters without control characters; it names this replica in the others' events (the pod's name, say).");
        }

        try
        {
            var parsed = new Npgsql.NpgsqlConnectionStringBuilder(PostgreSqlConnectionString);
            if (string.IsNullOrEmpty(parsed.Host))
            {
                errors.Add("PluginHost:Store:PostgreSqlConnectionString names no Host; add Host=<server or socket directory>.");
            }
        }
        catch (ArgumentException ex)
        {
            // The message may quote the string; the string may hold a password, so say only what kind of problem it is.
            errors.Add($"PluginHost:Store:PostgreSqlConnectionString is not an Npgsql connection string ({ex.GetType().Name}: a key Npgsql does not know, or a value of the wrong kind). Write it as Key=Value pairs separated by ';', as https://www.npgsql.org/doc/connection-string-parameters.html lists them.");
        }
    }
}
