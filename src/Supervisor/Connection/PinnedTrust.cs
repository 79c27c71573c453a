// Shared by the host and the Sdk (linked into both): the mutual TLS of an attached worker trusts
// one private CA on each side, never the machine's public roots.
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace GrpcPlugins.Protocol;

/// <summary>Loads PEM credentials and checks a peer's certificate against a private CA only.</summary>
internal static class PinnedTrust
{
    /// <summary>Reads every certificate in a PEM file; throws with the path and the fix when it holds none.</summary>
    public static X509Certificate2Collection LoadAuthorities(string pemPath, string setting)
    {
        var authorities = new X509Certificate2Collection();
        try
        {
            authorities.ImportFromPemFile(pemPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new InvalidOperationException($"{setting}: '{pemPath}' could not be read as PEM certificates ({ex.Message}). Point it at the CA certificate that signs the other side's certificate.", ex);
        }

        if (authorities.Count == 0)
        {
            throw new InvalidOperationException($"{setting}: '{pemPath}' holds no PEM certificate. Point it at the CA certificate that signs the other side's certificate.");
        }

        return authorities;
    }

    /// <summary>Reads a certificate with its private key from two PEM files; throws with the paths and the fix.</summary>
    public static X509Certificate2 LoadIdentity(string certificatePath, string keyPath, string setting)
    {
        try
        {
            using var pem = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
            // An ephemeral key cannot be used by TLS on every platform; a PKCS#12 round trip gives it a home.
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new InvalidOperationException($"{setting}: the certificate '{certificatePath}' with the key '{keyPath}' could not be loaded ({ex.Message}). Give a PEM certificate and its unencrypted PEM private key.", ex);
        }
    }

    /// <summary>
    /// True when <paramref name="certificate"/> chains to one of <paramref name="authorities"/>.
    /// The system's roots play no part: a certificate any public CA issued is not a plugin's or a host's.
    /// Revocation is not checked: a private CA rotates by being replaced.
    /// </summary>
    public static bool ChainsTo(X509Certificate? certificate, X509Chain? presented, X509Certificate2Collection authorities)
    {
        if (certificate is null)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (presented is not null)
        {
            // Intermediates the peer sent along.
            foreach (var element in presented.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        var leaf = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(leaf);
    }

    /// <summary>The server-side check a client makes: the CA, and the name in the address (which the platform already compared).</summary>
    public static bool AcceptsServer(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors, X509Certificate2Collection authorities) =>
        (errors & (SslPolicyErrors.RemoteCertificateNotAvailable | SslPolicyErrors.RemoteCertificateNameMismatch)) == 0
        && ChainsTo(certificate, chain, authorities);
}
