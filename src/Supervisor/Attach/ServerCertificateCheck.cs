using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using GrpcPlugins.Protocol;

namespace GrpcPlugins.Supervisor.Attach;

/// <summary>
/// The host's check of an attached worker's certificate, keeping why it last refused one: the
/// TLS stack reports only that the callback said no, and an admin needs to know which part of
/// the certificate to fix.
/// </summary>
internal sealed class ServerCertificateCheck(AttachCredentials credentials)
{
    private string? _lastRefusal;

    /// <summary>Why the last certificate was refused, or null when none was.</summary>
    public string? LastRefusal => Volatile.Read(ref _lastRefusal);

    /// <summary>Forgets the last refusal, so that a later failure of another kind is not reported as it.</summary>
    public void Clear() => Volatile.Write(ref _lastRefusal, null);

    public bool Accepts(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (PinnedTrust.AcceptsServer(certificate, chain, errors, credentials.Authorities))
        {
            return true;
        }

        var refusal = certificate is null
            ? "the worker presented no certificate"
            : (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0
                ? $"the worker's certificate ({certificate.Subject}) does not name the host in its address; issue it for that name (a DNS or IP subject alternative name)"
                : $"the worker's certificate ({certificate.Subject}, issued by {certificate.Issuer}) does not chain to a CA in PluginHost:Attach:TrustedCaPath";
        Volatile.Write(ref _lastRefusal, refusal);
        return false;
    }
}
