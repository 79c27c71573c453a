using System.Runtime.InteropServices;
using System.Security.Cryptography;
using GrpcPlugins.Host.Bundles;
using GrpcPlugins.Host.Registry;

// Tools for plugin authors and admins: keys, signed bundles, verification, install; and moving a host's state to a shared store.
const string Usage = """
    usage: GrpcPlugins.BundleTool <command>
      keygen  <private.pem> <public.pem>           create a publisher key pair (ECDSA P-256)
      pack    <plugin-folder> <out.bundle> <private.pem>
                                                   sign every file of the folder into one bundle; prints its address
      verify  <bundle> <trust-dir>                 check signature, digests and manifest
      install <bundle> <plugins-dir> <trust-dir>   verify, then install into the plugins directory
      check   <plugin-folder | bundle> [--worker <GrpcPlugins.PluginWorker.dll>] [--settings <settings.json>]
              [--with <dependency-folder>]... [--trust <trust-dir>] [--report <report.json>]
              [--call "<METHOD> </path[?query]> [<body-file>]"]...
                                                   run the plugin in a host of its own and check it keeps the
                                                   protocol: start, health, settings, hooks, GET routes, exit;
                                                   exit code 0 passed, 1 failed, 130 interrupted
      import-store <state-dir> <connection-string>
                                                   move a host's SQLite state and key ring into an empty
                                                   PostgreSQL store, for host replicas to share
    """;

try
{
    switch (args)
    {
        case ["keygen", var privatePath, var publicPath]:
            using (var key = ECDsa.Create(ECCurve.NamedCurves.nistP256))
            {
                await File.WriteAllTextAsync(privatePath, key.ExportPkcs8PrivateKeyPem());
                await File.WriteAllTextAsync(publicPath, key.ExportSubjectPublicKeyInfoPem());
                Console.WriteLine($"key id {BundleSignature.KeyIdOf(key)}: put {publicPath} in the host's trust directory");
            }

            return 0;
        case ["pack", var folder, var output, var privatePath]:
            var manifest = ManifestReader.Read(folder, out var errors) ?? throw new InvalidDataException(string.Join(" ", errors));
            using (var key = ECDsa.Create())
            {
                key.ImportFromPem(await File.ReadAllTextAsync(privatePath));
                Console.WriteLine($"{output} {BundleArchive.Pack(folder, manifest.Id, manifest.Version, key, output)}");
            }

            return 0;
        case ["verify", var bundle, var trustDirectory]:
            var extracted = BundleArchive.Extract(bundle, BundleLimits.Default);
            try
            {
                var problems = BundleVerifier.Verify(extracted, TrustStore.Load(trustDirectory), out var signed) ?? ["unsigned: no .bundle/ folder"];
                if (problems.Count > 0)
                {
                    await Console.Error.WriteLineAsync($"refused {BundleArchive.Address(bundle)}: {string.Join(" ", problems)}");
                    return 1;
                }

                Console.WriteLine($"verified {signed!.PluginId} {signed.Version} {BundleArchive.Address(bundle)} ({signed.Files.Count} files)");
                return 0;
            }
            finally
            {
                Directory.Delete(extracted, recursive: true);
            }

        case ["install", var bundle, var pluginsDirectory, var trustDirectory]:
            var (id, address) = BundleInstaller.Install(bundle, pluginsDirectory, TrustStore.Load(trustDirectory), BundleLimits.Default);
            Console.WriteLine($"installed {id} from {address} into {Path.Combine(pluginsDirectory, id)}");
            return 0;
        case ["check", .. var rest]:
            return await GrpcPlugins.BundleTool.Checking.CheckCommand.RunAsync(rest);
        case [GrpcPlugins.BundleTool.Checking.HostOnlyCheck.ProbeCommand, var pid, var socketPath]:
            // Not for people: the check runs it as the other process a worker must refuse.
            return await GrpcPlugins.BundleTool.Checking.HostOnlyCheck.ProbeAsync(int.Parse(pid, System.Globalization.CultureInfo.InvariantCulture), socketPath);
        case ["import-store", var stateDirectory, var connectionString]:
            var counts = await GrpcPlugins.Host.Replicas.SqliteImport.ImportAsync(stateDirectory, connectionString, CancellationToken.None);
            Console.WriteLine($"imported {counts.Settings} settings scopes ({counts.Revisions} revisions), {counts.EnabledStates} enabled states, {counts.TenantScopes} tenant scopes, {counts.Installs} installs, {counts.AuditEntries} audit entries, {counts.DescribedSchemas} described settings schemas and {counts.Keys} keys of the key ring; point every replica's PluginHost:Store:PostgreSqlConnectionString at it");
            return 0;
        default:
            await Console.Error.WriteLineAsync(Usage);
            return 2;
    }
}
catch (Exception ex) when (ex is BundleFormatException or InvalidDataException or IOException or CryptographicException or ArgumentException or InvalidOperationException or Npgsql.NpgsqlException)
{
    await Console.Error.WriteLineAsync("error: " + ex.Message);
    return 1;
}
