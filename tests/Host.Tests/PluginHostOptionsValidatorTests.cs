using GrpcPlugins.Host.Hosting;
using GrpcPlugins.Host.Registry;

namespace GrpcPlugins.Host.Tests;

public sealed class PluginHostOptionsValidatorTests
{
    [Theory]
    [InlineData("/run/user/1000", true)]
    [InlineData("/tmp/exactly-forty-two-bytes-long-director", true)]
    [InlineData("/tmp/exactly-forty-three-bytes-long-directo", false)]
    public void RuntimeDirectory_LongerThanTheSocketPathsAllow_IsRefusedSayingWhy(string directory, bool valid)
    {
        var result = new PluginHostOptionsValidator().Validate(null, new PluginHostOptions { RuntimeDirectory = directory });

        Assert.Equal(valid, result.Succeeded);
        if (!valid)
        {
            Assert.Contains("a Unix socket path has at most 107 bytes, which leaves 42", result.FailureMessage, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("Host=db.internal;Database=plugins;Username=gateway;Password=p4ss", "00:00:30", null)]
    [InlineData("Database=plugins;Username=gateway;Password=p4ss", "00:00:30", "names no Host; add Host=")]
    [InlineData("Host=db;Colour=blue;Password=p4ss", "00:00:30", "is not an Npgsql connection string")]
    [InlineData("Host=db", "00:00:00", "PluginHost:Store:ConnectTimeout is 00:00:00")]
    [InlineData("Host=db", "00:00:30", "PluginHost:Store:ReplicaName must be 1 to 100 characters", "pod\n7")]
    public void AStoreSection_ThatCannotWork_IsRefusedAtStart_WithoutQuotingItsPassword(string connectionString, string timeout, string? problem, string replicaName = "pod-7")
    {
        var result = new PluginHostOptionsValidator().Validate(null, new PluginHostOptions
        {
            Store = new() { PostgreSqlConnectionString = connectionString, ConnectTimeout = TimeSpan.Parse(timeout, System.Globalization.CultureInfo.InvariantCulture), ReplicaName = replicaName },
        });

        Assert.Equal(problem is null, result.Succeeded);
        if (problem is not null)
        {
            Assert.Contains(problem, result.FailureMessage, StringComparison.Ordinal);
            Assert.DoesNotContain("p4ss", result.FailureMessage, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void AKeyRingCertificate_WithoutItsKey_OrNotPem_IsRefusedAtStart_NamingTheFile()
    {
        var notPem = Path.GetTempFileName();
        try
        {
            File.WriteAllText(notPem, "not a certificate");
            var half = new PluginHostOptionsValidator().Validate(null, new PluginHostOptions { Store = new() { PostgreSqlConnectionString = "Host=db", KeyRingCertificatePath = notPem } });
            var unreadable = new PluginHostOptionsValidator().Validate(null, new PluginHostOptions { Store = new() { PostgreSqlConnectionString = "Host=db", KeyRingCertificatePath = notPem, KeyRingKeyPath = notPem } });

            Assert.Contains("needs both KeyRingCertificatePath and KeyRingKeyPath, or neither", half.FailureMessage, StringComparison.Ordinal);
            Assert.Contains($"KeyRingCertificatePath ({notPem}) with KeyRingKeyPath ({notPem}) cannot be loaded", unreadable.FailureMessage, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(notPem);
        }
    }

    [Fact]
    public void PluginRouteHooks_NamingNoPoint_AreRefusedAtStart()
    {
        var refused = new PluginHostOptionsValidator().Validate(null, new PluginHostOptions { PluginRouteHooks = new Hooks.EndpointHooks() });
        var accepted = new PluginHostOptionsValidator().Validate(null, new PluginHostOptions
        {
            PluginRouteHooks = new Hooks.EndpointHooks { Inbound = new("request", Hooks.HookFailureMode.FailOpen, TimeSpan.FromSeconds(1)) },
        });

        Assert.Contains("PluginHost:PluginRouteHooks: EndpointHooks names no hook point", refused.FailureMessage, StringComparison.Ordinal);
        Assert.True(accepted.Succeeded);
    }

    [Fact]
    public void Attach_HalfConfiguredOrWithFilesThatAreNotPem_IsRefusedAtStart_NamingTheFile()
    {
        var directory = Directory.CreateTempSubdirectory("gph-attach-").FullName;
        try
        {
            var notPem = Path.Combine(directory, "ca.pem");
            File.WriteAllText(notPem, "not a certificate");
            var half = new PluginHostOptionsValidator().Validate(null, new PluginHostOptions { Attach = new() { TrustedCaPath = notPem } });
            var unreadable = new PluginHostOptionsValidator().Validate(null, new PluginHostOptions
            {
                Attach = new() { CertificatePath = Path.Combine(directory, "missing.pem"), KeyPath = Path.Combine(directory, "missing.key"), TrustedCaPath = notPem },
            });

            Assert.Contains("PluginHost:Attach needs all of CertificatePath, KeyPath and TrustedCaPath, or none of them.", half.FailureMessage, StringComparison.Ordinal);
            Assert.Contains($"PluginHost:Attach:CertificatePath and PluginHost:Attach:KeyPath: the certificate '{Path.Combine(directory, "missing.pem")}'", unreadable.FailureMessage, StringComparison.Ordinal);
            Assert.True(new PluginHostOptionsValidator().Validate(null, new PluginHostOptions()).Succeeded);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void AttachCallback_WithoutAnIdentity_OrWithAddressesThatAreNot_IsRefusedAtStart()
    {
        var refused = new PluginHostOptionsValidator().Validate(null, new PluginHostOptions { Attach = new() { CallbackListen = "gateway:7443", CallbackAddress = "http://gateway:7443" } });

        Assert.Contains("PluginHost:Attach:CallbackListen is set, but the host has no certificate to serve it with", refused.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("PluginHost:Attach:CallbackListen 'gateway:7443' is not an address with a port; give one such as 0.0.0.0:7443.", refused.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("PluginHost:Attach:CallbackAddress 'http://gateway:7443' is not an https address", refused.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void HookBreaker_WithNegativeTimeoutsOrNoPause_IsRefused_AndZeroTimeoutsTurnsItOff()
    {
        var refused = new PluginHostOptionsValidator().Validate(null, new PluginHostOptions { HookBreakerTimeouts = -1, HookBreakerPause = TimeSpan.Zero });
        var off = new PluginHostOptionsValidator().Validate(null, new PluginHostOptions { HookBreakerTimeouts = 0 });

        Assert.Contains("PluginHost:HookBreakerTimeouts is -1; use 0 (never pause) or more.", refused.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("PluginHost:HookBreakerPause is 00:00:00", refused.FailureMessage, StringComparison.Ordinal);
        Assert.True(off.Succeeded);
    }

    [Fact]
    public void ADefaultTenantScope_ThatListsTenantsForEveryTenant_OrABadTenant_IsRefused()
    {
        var everyTenantWithList = new PluginHostOptionsValidator().Validate(null, new PluginHostOptions { DefaultTenantScope = new DefaultTenantScopeOptions { Tenants = ["acme"] } });
        var badTenant = new PluginHostOptionsValidator().Validate(null, new PluginHostOptions { DefaultTenantScope = new DefaultTenantScopeOptions { Mode = Hooks.Tenancy.TenantScopeMode.Except, Tenants = [new string('t', 129)] } });
        var noTenant = new PluginHostOptionsValidator().Validate(null, new PluginHostOptions { DefaultTenantScope = new DefaultTenantScopeOptions { Mode = Hooks.Tenancy.TenantScopeMode.Only } });

        Assert.Contains("PluginHost:DefaultTenantScope lists tenants with Mode All", everyTenantWithList.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("the tenant id is 129 characters long", badTenant.FailureMessage, StringComparison.Ordinal);
        Assert.True(noTenant.Succeeded);
    }

    [Fact]
    public void ACallLimitBelowOne_IsRefused()
    {
        var refused = new PluginHostOptionsValidator().Validate(null, new PluginHostOptions { MaxConcurrentCallsPerPlugin = 0 });

        Assert.Contains("PluginHost:MaxConcurrentCallsPerPlugin is 0; use 1 or more.", refused.FailureMessage, StringComparison.Ordinal);
        Assert.True(new PluginHostOptionsValidator().Validate(null, new PluginHostOptions()).Succeeded);
    }

    [Fact]
    public void SettingsLimits_ThatNoDocumentCouldMeet_AreRefused()
    {
        var result = new PluginHostOptionsValidator().Validate(null, new PluginHostOptions { MaxSettingsBytes = 1, MaxSettingsTenants = -1 });
        var perPlugin = new PluginHostOptionsValidator().Validate(null, new PluginHostOptions { MaxSettingsBytes = 1000, MaxSettingsBytesPerPlugin = 999 });

        Assert.Contains("PluginHost:MaxSettingsBytes is 1; use 2 or more", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("PluginHost:MaxSettingsTenants is -1", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("MaxSettingsBytesPerPlugin (999) is less than MaxSettingsBytes (1000)", perPlugin.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void AStagedBundleLifetimeOrFollowRetryInterval_ThatIsNotPositive_IsRefused()
    {
        var options = new PluginHostOptions { StagedBundleLifetime = TimeSpan.Zero };
        options.Store.FollowRetryInterval = TimeSpan.FromSeconds(-1);

        var result = new PluginHostOptionsValidator().Validate(null, options);

        Assert.Contains("PluginHost:StagedBundleLifetime is 00:00:00", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("PluginHost:Store:FollowRetryInterval is -00:00:01; use a positive time", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void ARollbackWindow_ThatIsNegative_IsRefused_AndZeroTurnsItOff()
    {
        var negative = new PluginHostOptionsValidator().Validate(null, new PluginHostOptions { RollbackOnCrashLoopWithin = TimeSpan.FromMinutes(-1), RollbackOnHookPauseWithin = TimeSpan.FromSeconds(-5), RollbackOnCallFailuresWithin = TimeSpan.FromSeconds(-2), CallFailuresToRollBack = 0 });
        var off = new PluginHostOptionsValidator().Validate(null, new PluginHostOptions());

        Assert.Contains("PluginHost:RollbackOnCrashLoopWithin is -00:01:00; use 00:00:00 (never roll back by itself) or a positive time", negative.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("PluginHost:RollbackOnHookPauseWithin is -00:00:05; use 00:00:00 (never roll back by itself) or a positive time", negative.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("PluginHost:RollbackOnCallFailuresWithin is -00:00:02; use 00:00:00 (never roll back by itself) or a positive time", negative.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("PluginHost:CallFailuresToRollBack is 0; use 1 or more (5 by default)", negative.FailureMessage, StringComparison.Ordinal);
        Assert.True(off.Succeeded, off.FailureMessage);
    }

    [Fact]
    public void ReloadOnChange_IsRefusedOnAHostThatLoadsOnlySignedBundles()
    {
        var production = new PluginHostOptionsValidator().Validate(null, new PluginHostOptions { ReloadOnChange = true });
        var development = new PluginHostOptionsValidator().Validate(null, new PluginHostOptions { ReloadOnChange = true, AllowUnsignedPlugins = true });

        Assert.Contains("PluginHost:ReloadOnChange is for a development host", production.FailureMessage, StringComparison.Ordinal);
        Assert.True(development.Succeeded, development.FailureMessage);
    }

    [Fact]
    public void HostConnectionsPerPlugin_BelowOne_IsRefused()
    {
        var result = new PluginHostOptionsValidator().Validate(null, new PluginHostOptions { MaxHostConnectionsPerPlugin = 0 });

        Assert.Contains("PluginHost:MaxHostConnectionsPerPlugin is 0; use 1 or more", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void SettingsWritePace_Negative_OrWithoutABurst_IsRefused_ButZeroTurnsItOff()
    {
        var negative = new PluginHostOptionsValidator().Validate(null, new PluginHostOptions { SettingsWritesPerSecond = -1 });
        var noBurst = new PluginHostOptionsValidator().Validate(null, new PluginHostOptions { SettingsWriteBurst = 0 });
        var off = new PluginHostOptionsValidator().Validate(null, new PluginHostOptions { SettingsWritesPerSecond = 0, SettingsWriteBurst = 0 });

        Assert.Contains("PluginHost:SettingsWritesPerSecond is -1; use 0 (no pacing) or more", negative.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("PluginHost:SettingsWriteBurst is 0; use 1 or more", noBurst.FailureMessage, StringComparison.Ordinal);
        Assert.True(off.Succeeded, off.FailureMessage);
    }

    [Fact]
    public void WorkerEnvironment_WithAHandshakeVariable_IsRefusedByName()
    {
        var options = new PluginHostOptions();
        options.WorkerEnvironment["PLUGIN_TOKEN"] = "mine";

        var result = new PluginHostOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("'PLUGIN_TOKEN'", result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("A=B")]
    public void WorkerEnvironment_WithANameNoProcessCanHave_IsRefused(string name)
    {
        var options = new PluginHostOptions();
        options.WorkerEnvironment[name] = "1";

        var result = new PluginHostOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("PluginHost:WorkerEnvironment", result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "an empty prefix")]
    [InlineData("A=B", "an empty prefix or one with '='")]
    [InlineData("plugin_", "PLUGIN_* variables are the handshake's")]
    public void WorkerEnvironmentWithheld_WithAPrefixThatWithholdsAllOrTheHandshake_IsRefused(string prefix, string says)
    {
        var options = new PluginHostOptions { WorkerEnvironmentWithheld = [prefix] };

        var result = new PluginHostOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("PluginHost:WorkerEnvironmentWithheld", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains(says, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void WorkerEnvironment_WithOrdinaryVariables_IsAccepted()
    {
        var options = new PluginHostOptions();
        options.WorkerEnvironment["DOTNET_TieredPGO"] = "0";
        options.WorkerEnvironment["HTTPS_PROXY"] = "http://proxy:3128";

        Assert.True(new PluginHostOptionsValidator().Validate(null, options).Succeeded);
    }

    [Theory]
    [InlineData(-1, false)]
    [InlineData(0, true)]
    [InlineData(19, true)]
    [InlineData(20, false)]
    public void WorkerNice_OutsideZeroTo19_IsRefused_AWorkerNeverAboveItsHost(int nice, bool valid)
    {
        var result = new PluginHostOptionsValidator().Validate(null, new PluginHostOptions { WorkerNice = nice });

        Assert.Equal(valid, result.Succeeded);
        if (!valid)
        {
            Assert.Contains($"PluginHost:WorkerNice is {nice}; use 0 (the host's priority) to 19", result.FailureMessage, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(-1, false)]
    [InlineData(0, true)]
    [InlineData(1024, true)]
    public void DiskFigures_BelowZero_AreRefused_ZeroMeaningNone(int mib, bool valid)
    {
        var data = new PluginHostOptionsValidator().Validate(null, new PluginHostOptions { DefaultDataLimitMiB = mib });
        var disk = new PluginHostOptionsValidator().Validate(null, new PluginHostOptions { MinFreeDiskMiB = mib });

        Assert.Equal(valid, data.Succeeded);
        Assert.Equal(valid, disk.Succeeded);
        if (!valid)
        {
            Assert.Contains("PluginHost:DefaultDataLimitMiB is -1; use 0 (no limit) or more.", data.FailureMessage, StringComparison.Ordinal);
            Assert.Contains("PluginHost:MinFreeDiskMiB is -1; use 0 (never warn) or more.", disk.FailureMessage, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(-1, false)]
    [InlineData(0, true)]
    [InlineData(15, false)]
    [InlineData(16, true)]
    public void TheDefaultThreadLimit_IsZeroForNone_OrAtLeastWhatARuntimeRunsItself(int threads, bool valid)
    {
        var result = new PluginHostOptionsValidator().Validate(null, new PluginHostOptions { DefaultMaxThreads = threads });

        Assert.Equal(valid, result.Succeeded);
        if (!valid)
        {
            Assert.Contains($"PluginHost:DefaultMaxThreads is {threads}; use 16 or more (threads of a worker's whole process group), or 0 for no limit.", result.FailureMessage, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(-0.5, false)]
    [InlineData(0, true)]
    [InlineData(0.25, true)]
    [InlineData(2000, false)]
    public void TheDefaultCpuLimit_IsZeroForNone_OrACoresWorth(double cpus, bool valid)
    {
        var result = new PluginHostOptionsValidator().Validate(null, new PluginHostOptions { DefaultCpus = cpus });

        Assert.Equal(valid, result.Succeeded);
        if (!valid)
        {
            Assert.Contains(FormattableString.Invariant($"PluginHost:DefaultCpus is {cpus}; use the cores' worth of CPU time a worker may use (0.5: half a core; at most 1024), or 0 for no limit."), result.FailureMessage, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void APluginsLimitsSetByTheHost_AreCheckedAsAManifestsAre_NamedByTheirConfigurationKey()
    {
        var options = new PluginHostOptions();
        options.PluginLimits["hello"] = new PluginLimitsOptions { MemoryMiB = 8, DataMiB = 0, MaxConcurrentCalls = 4, MaxThreads = 15, Cpus = 0 };
        options.PluginLimits["other"] = new PluginLimitsOptions { StartTimeoutSeconds = 900 };

        var result = new PluginHostOptionsValidator().Validate(null, options);

        Assert.False(result.Succeeded);
        Assert.Contains("PluginHost:PluginLimits:hello:MemoryMiB: 8 is too small; give at least 16.", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("PluginHost:PluginLimits:hello:DataMiB: 0 must be 1 or more", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("PluginHost:PluginLimits:hello:MaxThreads: 15 is too few for any runtime's own threads; give at least 16", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("PluginHost:PluginLimits:hello:Cpus: 0 must be more than 0 and at most 1024", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("PluginHost:PluginLimits:other:StartTimeoutSeconds: 900 must be between 0 and 600.", result.FailureMessage, StringComparison.Ordinal);
        Assert.DoesNotContain("MaxConcurrentCalls", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void LimitsSetByTheHost_ReplaceTheManifestsOneByOne_AndKeepTheRest()
    {
        var manifest = new ManifestLimits(300, TimeSpan.FromSeconds(5), null, TimeSpan.FromSeconds(30), 1000, 100, 64, 10, MaxThreads: 100);

        var effective = manifest.OverriddenBy(new PluginLimitsOptions { DataMiB = 2, MaxConcurrentCalls = 3, CallTimeoutMs = 250, MaxWebSockets = 4, MaxThreads = 50, Cpus = 0.5 }.ToLimits());

        Assert.Equal(new ManifestLimits(300, TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(30), 1000, 3, 2, 4, 50, 0.5), effective);
    }

    [Fact]
    public void WebSocketLimits_BelowOne_AreRefused_NamingTheSettingAndItsDefault()
    {
        var result = new PluginHostOptionsValidator().Validate(null, new PluginHostOptions { MaxWebSocketMessageBytes = 0, MaxWebSocketsPerPlugin = 0, WebSocketCloseTimeout = TimeSpan.Zero });

        Assert.True(result.Failed);
        Assert.Contains("PluginHost:MaxWebSocketMessageBytes is 0; use 1 or more (the default is 1048576)", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("PluginHost:MaxWebSocketsPerPlugin is 0", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("PluginHost:WebSocketCloseTimeout", result.FailureMessage, StringComparison.Ordinal);
    }
}
