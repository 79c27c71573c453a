namespace GrpcPlugins.Host.Hosting;

/// <summary>
/// The host's TLS identity for workers that run elsewhere (a manifest's <c>attach</c>): the
/// certificate it presents to every attached worker (and, with a callback, serves their calls
/// back with), and the private CA their certificates must chain to. The three paths go
/// together, or none is set (no attached workers).
/// </summary>
public sealed class AttachOptions
{
    /// <summary>
    /// The host's certificate (PEM), signed by the CA the workers trust (their PLUGIN_TLS_CLIENT_CA).
    /// A client certificate; with <see cref="CallbackListen"/> also the callback's server
    /// certificate, naming <see cref="CallbackAddress"/>'s host.
    /// </summary>
    public string? CertificatePath { get; set; }

    /// <summary>Its unencrypted private key (PEM). Keep it readable by the host alone.</summary>
    public string? KeyPath { get; set; }

    /// <summary>The CA certificate(s) (PEM) that sign the workers' certificates; the machine's public roots are not trusted.</summary>
    public string? TrustedCaPath { get; set; }

    /// <summary>
    /// Where the host serves the PluginHost service to attached workers, such as
    /// "0.0.0.0:7443": mutual TLS, a worker certificate from <see cref="TrustedCaPath"/>
    /// required. Unset, attached workers have no way back (no settings calls, no pulled bodies).
    /// </summary>
    public string? CallbackListen { get; set; }

    /// <summary>The address attached workers dial to reach <see cref="CallbackListen"/>, such as "https://gateway.internal:7443".</summary>
    public string? CallbackAddress { get; set; }

    /// <summary>True when any of the identity's three paths is set.</summary>
    internal bool IsConfigured => CertificatePath is { Length: > 0 } || KeyPath is { Length: > 0 } || TrustedCaPath is { Length: > 0 };

    /// <summary>Loads the credentials; null when none are configured. Throws <see cref="InvalidOperationException"/> naming the file and the fix.</summary>
    internal Supervisor.Attach.AttachCredentials? Load()
    {
        if (!IsConfigured)
        {
            return null;
        }

        if (CertificatePath is not { Length: > 0 } certificate || KeyPath is not { Length: > 0 } key || TrustedCaPath is not { Length: > 0 } authorities)
        {
            throw new InvalidOperationException("PluginHost:Attach needs all of CertificatePath, KeyPath and TrustedCaPath, or none of them.");
        }

        return Supervisor.Attach.AttachCredentials.Load(certificate, key, authorities, "PluginHost:Attach");
    }

    /// <summary>The callback's listen endpoint and advertised address, checked; null when no callback is configured.</summary>
    internal (System.Net.IPEndPoint Listen, Uri Address)? Callback(List<string> errors)
    {
        if (CallbackListen is not { Length: > 0 } && CallbackAddress is not { Length: > 0 })
        {
            return null;
        }

        var count = errors.Count;
        if (!IsConfigured)
        {
            errors.Add("PluginHost:Attach:CallbackListen is set, but the host has no certificate to serve it with: set PluginHost:Attach:CertificatePath, KeyPath and TrustedCaPath too.");
        }

        if (!System.Net.IPEndPoint.TryParse(CallbackListen ?? string.Empty, out var listen) || listen.Port == 0)
        {
            errors.Add($"PluginHost:Attach:CallbackListen '{CallbackListen}' is not an address with a port; give one such as 0.0.0.0:7443.");
        }

        if (!Uri.TryCreate(CallbackAddress, UriKind.Absolute, out var address) || address.Scheme != Uri.UriSchemeHttps || address.AbsolutePath != "/")
        {
            errors.Add($"PluginHost:Attach:CallbackAddress '{CallbackAddress}' is not an https address such as https://gateway.internal:7443, naming a host the certificate names.");
        }

        return errors.Count == count ? (listen!, address!) : null;
    }
}
