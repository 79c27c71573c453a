namespace GrpcPlugins.Host.Hosting;

/// <summary>
/// The host's TLS identity for workers that run elsewhere (a manifest's <c>attach</c>): the
/// client certificate it presents to every attached worker, and the private CA their
/// certificates must chain to. All three paths, or none (no attached workers).
/// </summary>
public sealed class AttachOptions
{
    /// <summary>The host's client certificate (PEM), signed by the CA the workers trust (their PLUGIN_TLS_CLIENT_CA).</summary>
    public string? ClientCertificatePath { get; set; }

    /// <summary>Its unencrypted private key (PEM). Keep it readable by the host alone.</summary>
    public string? ClientKeyPath { get; set; }

    /// <summary>The CA certificate(s) (PEM) that sign the workers' certificates; the machine's public roots are not trusted.</summary>
    public string? TrustedCaPath { get; set; }

    /// <summary>True when any of the three is set.</summary>
    internal bool IsConfigured => ClientCertificatePath is { Length: > 0 } || ClientKeyPath is { Length: > 0 } || TrustedCaPath is { Length: > 0 };

    /// <summary>Loads the credentials; null when none are configured. Throws <see cref="InvalidOperationException"/> naming the file and the fix.</summary>
    internal Supervisor.Attach.AttachCredentials? Load()
    {
        if (!IsConfigured)
        {
            return null;
        }

        if (ClientCertificatePath is not { Length: > 0 } certificate || ClientKeyPath is not { Length: > 0 } key || TrustedCaPath is not { Length: > 0 } authorities)
        {
            throw new InvalidOperationException("PluginHost:Attach needs all of ClientCertificatePath, ClientKeyPath and TrustedCaPath, or none of them.");
        }

        return Supervisor.Attach.AttachCredentials.Load(certificate, key, authorities, "PluginHost:Attach");
    }
}
