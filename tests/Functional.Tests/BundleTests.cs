using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Host.Bundles;
using GrpcPlugins.Supervisor.Supervision;

namespace GrpcPlugins.Functional.Tests;

/// <summary>Signed, content-addressed bundles: checked at install and at every load.</summary>
public sealed class BundleTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("gpt-bundle-").FullName;
    private readonly ECDsa _publisher = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly List<string> _cleanup = [];

    private string Trust => Path.Combine(_work, "trust");

    private string Plugins => Path.Combine(_work, "plugins");

    [Fact]
    public async Task SignedBundle_InstallsAndLoads_UnsignedAndModifiedPluginsAreRefused()
    {
        TrustPublisher();
        var bundle = PackHello();
        var (id, address) = BundleInstaller.Install(bundle, Plugins, TrustStore.Load(Trust), BundleLimits.Default);
        PluginFolders.Write(Plugins, PluginFolders.Test("unsigned"));

        Assert.Equal("hello", id);
        Assert.Matches("^sha256:[0-9a-f]{64}$", address);
        await using (var host = await TestHost.StartAsync([], Strict, _work + "/host1"))
        {
            host.ExpectErrors = true; // a deliberately broken or refused plugin logs errors
            await host.WaitForStateAsync("hello", WorkerState.Ready);
            var unsigned = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/unsigned");
            Assert.Equal("Refused", unsigned.GetProperty("state").GetString());
            Assert.StartsWith("unsigned:", unsigned.GetProperty("refusal")[0].GetString(), StringComparison.Ordinal);
        }

        await File.AppendAllTextAsync(Path.Combine(Plugins, "hello", "Hello.deps.json"), " ");
        await using (var host = await TestHost.StartAsync([], Strict, _work + "/host2"))
        {
            host.ExpectErrors = true; // a deliberately broken or refused plugin logs errors
            var hello = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/hello");
            Assert.Equal("Refused", hello.GetProperty("state").GetString());
            Assert.Equal("modified: 'Hello.deps.json' does not match its signed digest. Reinstall the plugin.", hello.GetProperty("refusal")[0].GetString());
        }
    }

    [Fact]
    public void Install_RefusesAnUnknownKey()
    {
        var bundle = PackHello();

        var error = Assert.Throws<InvalidDataException>(() => BundleInstaller.Install(bundle, Plugins, TrustStore.Load(Trust), BundleLimits.Default));

        Assert.Contains("signed by an unknown key", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(Plugins, "hello")));
    }

    [Fact]
    public void Install_RefusesABadSignature()
    {
        TrustPublisher();
        var bundle = PackHello();
        // Re-sign the same bundle manifest with another key, claiming the trusted key's id.
        var extracted = BundleArchive.Extract(bundle, BundleLimits.Default);
        _cleanup.Add(extracted);
        var signaturePath = Path.Combine(extracted, ".bundle", "bundle.sig");
        var original = BundleSignature.Parse(File.ReadAllBytes(signaturePath))!;
        using var impostor = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var forged = BundleSignature.Sign(File.ReadAllBytes(Path.Combine(extracted, ".bundle", "bundle.json")), impostor) with { KeyId = original.KeyId };
        File.WriteAllBytes(signaturePath, forged.ToBytes());

        var problems = BundleVerifier.Verify(extracted, TrustStore.Load(Trust), out _);

        Assert.StartsWith("bundle: bad signature", Assert.Single(problems!), StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_ReportsAddedAndMissingFiles()
    {
        TrustPublisher();
        var extracted = BundleArchive.Extract(PackHello(), BundleLimits.Default);
        _cleanup.Add(extracted);
        File.Delete(Path.Combine(extracted, "Hello.dll"));
        File.WriteAllText(Path.Combine(extracted, "extra.txt"), "x");

        var problems = BundleVerifier.Verify(extracted, TrustStore.Load(Trust), out _)!;

        Assert.Contains("modified: 'Hello.dll' is missing since install. Reinstall the plugin.", problems);
        Assert.Contains("modified: 'extra.txt' was added since install. Remove it or reinstall the plugin.", problems);
    }

    public void Dispose()
    {
        _publisher.Dispose();
        foreach (var directory in _cleanup.Append(_work).Where(Directory.Exists))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private void Strict(GrpcPlugins.Host.Hosting.PluginHostOptions options)
    {
        options.PluginsDirectory = Plugins;
        options.AllowUnsignedPlugins = false;
        options.TrustedKeysDirectory = Trust;
    }

    private void TrustPublisher()
    {
        Directory.CreateDirectory(Trust);
        File.WriteAllText(Path.Combine(Trust, "publisher.pem"), _publisher.ExportSubjectPublicKeyInfoPem());
    }

    /// <summary>The hello example's build output with its manifest, signed into a bundle.</summary>
    private string PackHello()
    {
        var folder = Path.Combine(_work, "hello-src");
        if (!Directory.Exists(folder))
        {
            var output = Path.GetDirectoryName(TestPaths.HelloAssembly)!;
            foreach (var file in Directory.GetFiles(output))
            {
                File.Copy(file, Path.Combine(Directory.CreateDirectory(folder).FullName, Path.GetFileName(file)));
            }

            var manifest = PluginFolders.Hello();
            manifest["assembly"] = "Hello.dll";
            File.WriteAllText(Path.Combine(folder, "plugin.json"), manifest.ToJsonString());
        }

        var bundle = Path.Combine(_work, "hello.bundle");
        BundleArchive.Pack(folder, "hello", "1.0.0", _publisher, bundle);
        return bundle;
    }
}
