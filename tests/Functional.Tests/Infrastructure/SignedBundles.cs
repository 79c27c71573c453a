using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using GrpcPlugins.Host.Bundles;

namespace GrpcPlugins.Functional.Tests.Infrastructure;

/// <summary>A publisher's key, the host's trust store for it, and bundles of the test plugin signed with it.</summary>
internal sealed class SignedBundles(string work) : IDisposable
{
    private readonly ECDsa _publisher = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    /// <summary>A trust store directory holding the publisher's public key.</summary>
    public string TrustDirectory()
    {
        var trust = Directory.CreateDirectory(Path.Combine(work, "trust")).FullName;
        File.WriteAllText(Path.Combine(trust, "publisher.pem"), _publisher.ExportSubjectPublicKeyInfoPem());
        return trust;
    }

    /// <summary>The test plugin's build output as plugin <paramref name="id"/> at <paramref name="version"/>, signed; asks for settings.read.</summary>
    public string Pack(string id, string version, string mode = "normal") => Pack(id, version, [mode], []);

    /// <summary>As <see cref="Pack(string, string, string)"/>, with the test plugin's mode and its arguments, dependencies as (id, version range), and any other change to its manifest.</summary>
    public string Pack(string id, string version, string[] modeArgs, (string Id, string Range)[] dependencies, Action<JsonObject>? manifest = null)
    {
        var folder = Path.Combine(work, $"{id}-{version}");
        var output = Path.GetDirectoryName(TestPaths.TestPlugin)!;
        foreach (var file in Directory.GetFiles(output, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(folder, Path.GetRelativePath(output, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        var document = new JsonObject
        {
            ["id"] = id,
            ["version"] = version,
            ["command"] = "dotnet",
            ["args"] = JsonSerializer.SerializeToNode<string[]>(["TestPlugin.dll", .. modeArgs, "--version", version]),
            ["dependencies"] = new JsonArray([.. dependencies.Select(d => (JsonNode?)new JsonObject { ["id"] = d.Id, ["version"] = d.Range })]),
            ["hooks"] = new JsonArray("request"),
            ["permissions"] = new JsonArray("settings.read"),
            ["routes"] = new JsonArray(new JsonObject { ["method"] = "*", ["path"] = "/*" }),
            ["limits"] = new JsonObject { ["startTimeoutSeconds"] = 15 },
        };
        manifest?.Invoke(document);
        File.WriteAllText(Path.Combine(folder, "plugin.json"), document.ToJsonString());
        var bundle = Path.Combine(work, $"{id}-{version}.bundle");
        BundleArchive.Pack(folder, id, version, _publisher, bundle);
        return bundle;
    }

    public void Dispose() => _publisher.Dispose();
}
