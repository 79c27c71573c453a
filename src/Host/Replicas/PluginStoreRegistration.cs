using GrpcPlugins.Host.Hosting;
using GrpcPlugins.Host.Settings;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace GrpcPlugins.Host.Replicas;

/// <summary>The store and the key ring that seals its secrets: an embedded SQLite file, or PostgreSQL shared by replicas.</summary>
internal static class PluginStoreRegistration
{
    public static IServiceCollection AddPluginStore(this IServiceCollection services)
    {
        services.AddSingleton(sp => NpgsqlDataSource.Create(Options(sp).Store.PostgreSqlConnectionString!));
        services.AddSingleton(sp => ReplicaIdentity.New(Options(sp).Store.ReplicaName));
        services.AddSingleton(sp => new PostgresPluginStore(
            sp.GetRequiredService<NpgsqlDataSource>(),
            sp.GetRequiredService<ReplicaIdentity>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<SealedSecrets>()));
        services.AddSingleton(sp => Options(sp).Store.IsShared
            ? SealedSecrets.CreateShared(
                new PostgresKeyRing(sp.GetRequiredService<NpgsqlDataSource>(), sp.GetRequiredService<TimeProvider>()),
                "the PostgreSQL store's key_ring table",
                Options(sp).Store.LoadKeyRingCertificate(),
                sp.GetRequiredService<ILogger<SealedSecrets>>())
            : SealedSecrets.Create(sp.GetRequiredService<StateDirectoryLock>().Root, sp.GetRequiredService<ILogger<SealedSecrets>>()));
        services.AddSingleton<IPluginStore>(sp => Options(sp).Store.IsShared
            ? sp.GetRequiredService<PostgresPluginStore>()
            : new SqlitePluginStore(Path.Combine(sp.GetRequiredService<StateDirectoryLock>().Root, "plugins.db"), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<SealedSecrets>()));
        services.AddSingleton<ISharedBundles>(sp => Options(sp).Store.IsShared
            ? new PostgresSharedBundles(sp.GetRequiredService<NpgsqlDataSource>(), sp.GetRequiredService<ReplicaIdentity>(), sp.GetRequiredService<TimeProvider>())
            : new NoSharedBundles());
        services.AddSingleton<InstallFollower>();
        services.AddSingleton<ReplicaLink>();
        services.AddSingleton<UnfollowedInstalls>();
        services.AddSingleton<ReplicaChanges>();
        return services;
    }

    private static PluginHostOptions Options(IServiceProvider services) => services.GetRequiredService<IOptions<PluginHostOptions>>().Value;
}
