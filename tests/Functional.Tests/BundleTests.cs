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

    [Fact]
    public async Task APipeInAPluginsFolder_RefusesThatPluginSayingSo_AndNeverHoldsTheHostsStart()
    {
        TrustPublisher();
        BundleInstaller.Install(PackHello(), Plugins, TrustStore.Load(Trust), BundleLimits.Default);
        // What a plugin's worker, running as the host's user, can do to its own installed folder.
        var inInstalled = MakeFifo(Path.Combine(Plugins, "hello", "wedge"));
        var asManifest = MakeFifo(Path.Combine(Directory.CreateDirectory(Path.Combine(Plugins, "piped")).FullName, "plugin.json"));
        PluginFolders.Write(Plugins, PluginFolders.Test("fine"));

        // On a thread of its own: a start that waits on the pipe must not hold the test's thread.
        var starting = Task.Run(() => TestHost.StartAsync([], options =>
        {
            Strict(options);
            options.AllowUnsignedPlugins = true;
        }, _work + "/host"));
        if (await Task.WhenAny(starting, Task.Delay(TimeSpan.FromSeconds(60))) != starting)
        {
            // Let the held reads end (a writer's open releases each, in whichever order the host reaches them),
            // so that the failed test leaves no host behind.
            var releases = new[] { inInstalled, asManifest }.Select(fifo => Task.Run(() => new FileStream(fifo, FileMode.Open, FileAccess.Write).Dispose()));
            await Task.WhenAll(releases).WaitAsync(TimeSpan.FromSeconds(30));
            await using var late = await starting;
            late.ExpectErrors = true;
            Assert.Fail("the host's start waited on a pipe in a plugin folder");
        }

        await using var host = await starting;
        host.ExpectErrors = true; // the two refusals are logged as errors
        await host.WaitForStateAsync("fine", WorkerState.Ready);
        var hello = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/hello");
        var piped = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/piped");
        Assert.Equal("Refused", hello.GetProperty("state").GetString());
        Assert.Equal($"modified: '{inInstalled}' is a FIFO (named pipe), not a regular file: the host reads no such file, which could hold it waiting for ever. Replace it with a regular file or remove it. Reinstall the plugin.", hello.GetProperty("refusal")[0].GetString());
        Assert.Equal("Refused", piped.GetProperty("state").GetString());
        Assert.StartsWith($"'{asManifest}' is a FIFO (named pipe), not a regular file", piped.GetProperty("refusal")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFileInTheTrustStoreThatIsNoKey_IsNamedAndSkipped_AndTheKeysBesideItStillVouch()
    {
        TrustPublisher();
        var bundle = PackHello();
        File.WriteAllText(Path.Combine(Trust, "a-broken.pem"), "-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n");
        File.WriteAllText(Path.Combine(Trust, "z-notes.pem"), "copied the wrong file");
        var trust = TrustStore.Load(Trust);
        BundleInstaller.Install(bundle, Plugins, trust, BundleLimits.Default);

        await using (var host = await TestHost.StartAsync([], Strict, _work + "/host"))
        {
            host.ExpectErrors = true; // each file that is no key is logged as an error
            await host.WaitForStateAsync("hello", WorkerState.Ready);
            Assert.Equal(2, host.ErrorLogs.Count(line => line.Contains("PluginHost:TrustedKeysDirectory: '", StringComparison.Ordinal)));
            Assert.Contains(host.ErrorLogs, line => line.Contains("z-notes.pem' is not an ECDSA P-256 public key in PEM", StringComparison.Ordinal));
        }

        // A plugin signed by a key the store lacks: its refusal points at the files that could not be read.
        File.Delete(Path.Combine(Trust, "publisher.pem"));
        var problems = BundleVerifier.Verify(Path.Combine(Plugins, "hello"), TrustStore.Load(Trust), out _)!;
        Assert.Contains("a-broken.pem' is not an ECDSA P-256 public key", Assert.Single(problems), StringComparison.Ordinal);
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

    private static string MakeFifo(string path)
    {
        using var mkfifo = System.Diagnostics.Process.Start("mkfifo", [path]);
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
        return path;
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
