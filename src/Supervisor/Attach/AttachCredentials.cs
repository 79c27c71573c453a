using System.Security.Cryptography.X509Certificates;
using GrpcPlugins.Protocol;

namespace GrpcPlugins.Supervisor.Attach;

/// <summary>
/// The host's side of an attached worker's mutual TLS: the certificate it presents (as a client,
/// and as the callback's server),
/// and the private CA a worker's certificate must chain to. One identity for every attached
/// worker: a worker trusts the host, not a plugin-specific client.
/// </summary>
internal sealed record AttachCredentials(X509Certificate2 Certificate, X509Certificate2Collection Authorities)
{
    /// <summary>Loads the three PEM files; throws <see cref="InvalidOperationException"/> naming the file and the fix.</summary>
    public static AttachCredentials Load(string certificatePath, string keyPath, string authoritiesPath, string section) => new(
        PinnedTrust.LoadIdentity(certificatePath, keyPath, $"{section}:CertificatePath and {section}:KeyPath"),
        PinnedTrust.LoadAuthorities(authoritiesPath, $"{section}:TrustedCaPath"));
}
