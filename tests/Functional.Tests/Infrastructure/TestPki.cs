using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace GrpcPlugins.Functional.Tests.Infrastructure;

/// <summary>
/// A private CA and the certificates it signs, written as PEM files into a directory of the
/// test's, as an operator would hand them to a host and an attached worker.
/// </summary>
internal sealed class TestPki
{
    private readonly X509Certificate2 _authority;
    private readonly string _directory;

    private TestPki(X509Certificate2 authority, string directory, string name)
    {
        _authority = authority;
        _directory = directory;
        CaPath = Path.Combine(directory, $"{name}-ca.pem");
        File.WriteAllText(CaPath, authority.ExportCertificatePem());
    }

    /// <summary>The CA certificate (PEM), what each side trusts.</summary>
    public string CaPath { get; }

    public static TestPki Create(string directory, string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name} test CA", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        // Outlives every certificate it signs: a leaf may not expire after its issuer.
        var authority = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(2));
        return new TestPki(authority, directory, name);
    }

    /// <summary>A server certificate for localhost and 127.0.0.1; its (certificate, key) PEM paths.</summary>
    public (string Certificate, string Key) IssueServer(string name) =>
        Issue(name, new OidCollection { new Oid("1.3.6.1.5.5.7.3.1") }, san =>
        {
            san.AddDnsName("localhost");
            san.AddIpAddress(IPAddress.Loopback);
        });

    /// <summary>A certificate for both ends of a connection (serving, and calling back) for localhost and 127.0.0.1; its (certificate, key) PEM paths.</summary>
    public (string Certificate, string Key) IssueIdentity(string name) =>
        Issue(name, new OidCollection { new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2") }, san =>
        {
            san.AddDnsName("localhost");
            san.AddIpAddress(IPAddress.Loopback);
        });

    /// <summary>A client certificate; its (certificate, key) PEM paths.</summary>
    public (string Certificate, string Key) IssueClient(string name) =>
        Issue(name, new OidCollection { new Oid("1.3.6.1.5.5.7.3.2") }, san => san.AddDnsName(name));

    private (string Certificate, string Key) Issue(string name, OidCollection usages, Action<SubjectAlternativeNameBuilder> names)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(usages, false));
        var san = new SubjectAlternativeNameBuilder();
        names(san);
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.Create(_authority, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), RandomNumberGenerator.GetBytes(16));
        var certificatePath = Path.Combine(_directory, $"{name}.pem");
        var keyPath = Path.Combine(_directory, $"{name}.key");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (certificatePath, keyPath);
    }
}
