using System.Security.Cryptography.X509Certificates;

namespace GrpcPlugins.Sdk.HostApi;

/// <summary>
/// An attached worker's TLS material: its certificate (served with, and presented when it
/// calls the host back) and the CA that signs the host's certificate.
/// </summary>
internal sealed record AttachedTls(X509Certificate2 Certificate, X509Certificate2Collection HostAuthorities)
{
    /// <summary>Loads the files <paramref name="listener"/> names; null with the error (which file, what to do) when one cannot be used.</summary>
    public static AttachedTls? Load(AttachedListener listener, out string? error)
    {
        try
        {
            var certificate = Protocol.PinnedTrust.LoadIdentity(listener.CertificatePath, listener.KeyPath, $"{Protocol.HandshakeEnvironment.TlsCertificate} and {Protocol.HandshakeEnvironment.TlsKey}");
            var authorities = Protocol.PinnedTrust.LoadAuthorities(listener.ClientCaPath, Protocol.HandshakeEnvironment.TlsClientCa);
            error = null;
            return new AttachedTls(certificate, authorities);
        }
        catch (InvalidOperationException ex)
        {
            error = ex.Message;
            return null;
        }
    }
}
