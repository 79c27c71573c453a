using GrpcPlugins.Host.Registry;
using GrpcPlugins.Supervisor.Policies;

namespace GrpcPlugins.Host.Tests;

public sealed class ManifestReaderTests
{
    [Fact]
    public void ValidManifest_IsRead_WithDefaults()
    {
        var manifest = ManifestReader.Parse("""
            { "id": "demo", "version": "1.2.3", "command": "./run", "hooks": ["request", {"point": "response", "priority": 5}],
              "routes": [{"method": "get", "path": "/ping", "anonymous": true}], "restart": "transient" }
            """, "/plugins/demo", out var errors);

        Assert.Empty(errors);
        Assert.NotNull(manifest);
        Assert.Equal([new ManifestHook("request", 0), new ManifestHook("response", 5)], manifest.Hooks);
        Assert.True(manifest.IsAnonymous("GET", "/ping"));
        Assert.False(manifest.IsAnonymous("POST", "/ping"));
        Assert.Equal(RestartMode.Transient, manifest.Restart);
        Assert.Equal([1], manifest.ProtocolVersions);
    }

    [Theory]
    [InlineData("utf-8")]
    [InlineData("utf-8 with a byte-order mark")]
    [InlineData("utf-16 with a byte-order mark")]
    public void AManifestSavedInAnyUnicodeEncodingAnEditorOffers_IsRead(string encoding)
    {
        var folder = Directory.CreateTempSubdirectory("gpt-manifest-").FullName;
        try
        {
            var json = """{"id": "demo", "version": "1.0.0", "command": "dotnet", "description": "Grüße"}""";
            System.Text.Encoding text = encoding switch
            {
                "utf-8" => new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false),
                "utf-8 with a byte-order mark" => new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: true),
                _ => System.Text.Encoding.Unicode,
            };
            File.WriteAllText(Path.Combine(folder, ManifestReader.FileName), json, text);

            var manifest = ManifestReader.Read(folder, out var errors);

            Assert.Empty(errors);
            Assert.Equal("Grüße", manifest!.Description);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("endless")]
    [InlineData("huge")]
    public void AManifestThatNeverEnds_OrIsOverAMebibyte_IsRefusedUnread_SayingWhy(string kind)
    {
        var folder = Directory.CreateTempSubdirectory("gpt-manifest-").FullName;
        try
        {
            var path = Path.Combine(folder, ManifestReader.FileName);
            if (kind == "endless")
            {
                File.CreateSymbolicLink(path, "/dev/zero");
            }
            else
            {
                // Valid JSON, but a mebibyte of it: a manifest is a few KiB.
                File.WriteAllText(path, "{\"id\": \"demo\", \"description\": \"" + new string('x', 1 << 20) + "\"}");
            }

            var manifest = ManifestReader.Read(folder, out var errors);

            Assert.Null(manifest);
            var error = Assert.Single(errors);
            Assert.Equal(kind == "endless"
                ? $"'{path}' is a character device, not a regular file: the host reads no such file, which could hold it waiting for ever. Replace it with a regular file or remove it."
                : $"'{path}' holds more than 1048576 bytes, more than such a file ever needs; it is not read. Check that it is the file it should be.", error);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("not-executable", "$.command: './run.sh' is not executable (its mode is 644): run `chmod +x ./run.sh` in the plugin folder before packing it; a bundle keeps the mode.")]
    [InlineData("missing-interpreter", "$.command: './run.sh' starts with '#!/opt/nowhere/python9', which does not exist on this machine: install it, or start the script with `#!/usr/bin/env python9` to take it from PATH.")]
    [InlineData("directory", "$.command: './run.sh' is a directory ({folder}/run.sh); name the executable in it.")]
    [InlineData("missing", "$.command: './run.sh' does not exist ({folder}/run.sh); give the executable's path relative to the plugin folder (./run.sh) or absolute, or a command on the host's PATH without a '/'.")]
    [InlineData("runnable", null)]
    public void ACommandThatCannotRun_IsRefusedWhenTheManifestIsRead_SayingWhatToFix(string kind, string? expected)
    {
        var folder = Directory.CreateTempSubdirectory("gpt-manifest-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, ManifestReader.FileName), """{"id": "demo", "version": "1.0.0", "command": "./run.sh"}""");
            var script = Path.Combine(folder, "run.sh");
            const UnixFileMode ReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
            const UnixFileMode Executable = ReadWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
            switch (kind)
            {
                case "not-executable":
                    File.WriteAllText(script, "#!/bin/sh\nexec sleep 1\n");
                    File.SetUnixFileMode(script, ReadWrite);
                    break;
                case "missing-interpreter":
                    File.WriteAllText(script, "#!/opt/nowhere/python9 -u\nprint('hi')\n");
                    File.SetUnixFileMode(script, Executable);
                    break;
                case "directory":
                    Directory.CreateDirectory(script);
                    break;
                case "runnable":
                    File.WriteAllText(script, "#!/bin/sh\nexec sleep 1\n");
                    File.SetUnixFileMode(script, Executable);
                    break;
            }

            var manifest = ManifestReader.Read(folder, out var errors);

            if (expected is null)
            {
                Assert.Empty(errors);
                Assert.NotNull(manifest);
            }
            else
            {
                Assert.Null(manifest);
                Assert.Equal(expected.Replace("{folder}", folder, StringComparison.Ordinal), Assert.Single(errors));
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void InvalidManifest_ReportsEveryErrorAtOnce_WithItsPath()
    {
        ManifestReader.Parse("""
            { "id": "Bad Id", "version": "one", "permissions": ["root"], "routes": [{"path": "ping"}],
              "limits": {"memoryMiB": 1}, "restart": "sometimes" }
            """, "/plugins/bad", out var errors);

        Assert.Contains(errors, e => e.StartsWith("$.id:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("$.version:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("$: set exactly one of 'command'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("$.permissions[0]: unknown permission 'root'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("$.routes[0].path:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("$.limits.memoryMiB:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("$.restart:", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("maxConcurrentCalls", 0, "$.limits.maxConcurrentCalls: 0 must be 1 or more")]
    [InlineData("maxConcurrentCalls", -5, "$.limits.maxConcurrentCalls: -5 must be 1 or more")]
    [InlineData("maxConcurrentCalls", 64, null)]
    [InlineData("maxWebSockets", 0, "$.limits.maxWebSockets: 0 must be 1 or more")]
    [InlineData("maxWebSockets", 2, null)]
    [InlineData("dataMiB", 0, "$.limits.dataMiB: 0 must be 1 or more")]
    [InlineData("dataMiB", 2048, null)]
    [InlineData("maxRequestBodyBytes", -1, "$.limits.maxRequestBodyBytes: -1 must be 0 or more")]
    public void ACountLimit_IsReadWhenPositive_AndRefusedOtherwise(string field, int value, string? error)
    {
        var manifest = ManifestReader.Parse($$"""
            { "id": "demo", "version": "1.0.0", "command": "./run", "limits": {"{{field}}": {{value}}} }
            """, "/plugins/demo", out var errors);

        if (error is null)
        {
            Assert.Empty(errors);
            Assert.Equal(value, field switch
            {
                "dataMiB" => manifest!.Limits.DataMiB,
                "maxWebSockets" => manifest!.Limits.MaxWebSockets,
                _ => manifest!.Limits.MaxConcurrentCalls,
            });
        }
        else
        {
            Assert.StartsWith(error, Assert.Single(errors), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void AnEnv_IsRead_WithThePluginsFolderExpanded()
    {
        var manifest = ManifestReader.Parse("""
            { "id": "demo", "version": "1.0.0", "command": "./run",
              "env": {"LD_LIBRARY_PATH": "${pluginDir}/native:${pluginDir}/lib", "DRIVER_MODE": "fast"} }
            """, "/plugins/demo", out var errors);

        Assert.Empty(errors);
        Assert.Equal("/plugins/demo/native:/plugins/demo/lib", manifest!.Environment["LD_LIBRARY_PATH"]);
        Assert.Equal("fast", manifest.Environment["DRIVER_MODE"]);
    }

    [Theory]
    [InlineData("""{"1BAD": "x"}""", "$.env['1BAD']: not a variable name")]
    [InlineData("""{"A=B": "x"}""", "$.env['A=B']: not a variable name")]
    [InlineData("""{"PLUGIN_TOKEN": "x"}""", "$.env.PLUGIN_TOKEN: PLUGIN_* variables are the handshake's")]
    [InlineData("""{"HOME": "${home}/x"}""", "$.env.HOME: '${home}/x' has a placeholder the host does not know")]
    public void ABadEnv_IsRefused_SayingWhatToWrite(string env, string error)
    {
        ManifestReader.Parse($$"""
            { "id": "demo", "version": "1.0.0", "command": "./run", "env": {{env}} }
            """, "/plugins/demo", out var errors);

        Assert.StartsWith(error, Assert.Single(errors), StringComparison.Ordinal);
    }

    [Fact]
    public void AnAttachedWorker_IsReadWithItsAddress()
    {
        var manifest = ManifestReader.Parse("""
            { "id": "demo", "version": "1.0.0", "attach": { "address": "https://orders.internal:7001" }, "limits": { "maxConcurrentCalls": 8 } }
            """, "/plugins/demo", out var errors);

        Assert.Empty(errors);
        Assert.Equal(new Uri("https://orders.internal:7001/"), manifest!.AttachAddress);
        Assert.Null(manifest.Command);
        Assert.Null(manifest.Assembly);
    }

    [Theory]
    [InlineData("""{ "address": "http://orders.internal:7001" }""", "", "$.attach.address: 'http://orders.internal:7001' is not an https address with a host and a port")]
    [InlineData("""{ "address": "https://orders.internal" }""", "", "$.attach.address: 'https://orders.internal' is not an https address with a host and a port")]
    [InlineData("""{ "address": "https://orders.internal:7001" }""", "\"args\": [\"x\"],", "$.attach: an attached worker's arguments and environment are set by whoever runs it")]
    [InlineData("""{ "address": "https://orders.internal:7001" }""", "\"limits\": {\"memoryMiB\": 64},", "$.attach: an attached worker's memory, threads, CPU and disk are limited where it runs")]
    [InlineData("""{ "address": "https://orders.internal:7001" }""", "\"limits\": {\"maxThreads\": 64},", "$.attach: an attached worker's memory, threads, CPU and disk are limited where it runs (its container's limits); remove limits.memoryMiB, limits.maxThreads, limits.cpus and limits.dataMiB.")]
    [InlineData("""{ "address": "https://orders.internal:7001" }""", "\"limits\": {\"cpus\": 0.5},", "$.attach: an attached worker's memory, threads, CPU and disk are limited where it runs")]
    [InlineData("""{ "address": "https://orders.internal:7001" }""", "\"command\": \"./run\",", "$: set exactly one of 'command'")]
    public void ABadAttach_IsRefused_SayingWhatToWrite(string attach, string more, string error)
    {
        ManifestReader.Parse($$"""
            { "id": "demo", "version": "1.0.0", {{more}} "attach": {{attach}} }
            """, "/plugins/demo", out var errors);

        Assert.StartsWith(error, Assert.Single(errors), StringComparison.Ordinal);
    }

    [Fact]
    public void AHooksMatch_IsRead()
    {
        var manifest = ManifestReader.Parse("""
            { "id": "demo", "version": "1.0.0", "command": "./run",
              "hooks": [{"point": "request", "match": {"routeIds": ["/orders*"], "methods": ["POST", "DELETE"], "contentTypes": ["application/json", "text/*"], "headersOnly": true}}] }
            """, "/plugins/demo", out var errors);

        Assert.Empty(errors);
        Assert.Equal(new GrpcPlugins.Host.Hooks.HookMatch(["/orders*"], ["application/json", "text/*"], true, ["POST", "DELETE"]), Assert.Single(manifest!.Hooks).Match);
    }

    [Fact]
    public void ABadHooksMatch_ReportsEachProblemWithItsPath()
    {
        ManifestReader.Parse("""
            { "id": "demo", "version": "1.0.0", "command": "./run",
              "hooks": [{"point": "request", "match": {"routeIds": ["/a*b", 3], "methods": ["post", "*"], "contentTypes": ["json"], "headersOnly": "yes", "paths": []}}] }
            """, "/plugins/demo", out var errors);

        Assert.Contains(errors, e => e.StartsWith("$.hooks[0].match.routeIds[0]: '/a*b' may only end in '*'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("$.hooks[0].match.routeIds[1]: write a string", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("$.hooks[0].match.methods[0]: 'post' must be in upper case, as HTTP sends it: write 'POST'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("$.hooks[0].match.methods[1]: '*' is not a method: leave the list empty", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("$.hooks[0].match.contentTypes[0]: 'json' is not a media type", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("$.hooks[0].match.headersOnly: write true or false", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("$.hooks[0].match.paths: not a match field", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("{ not json", "Fix the JSON")]
    [InlineData("""{ "id": "x", "version": "1.0.0", "command": "c", "colour": "red" }""", "colour")]
    public void MalformedManifest_SaysWhereAndHowToFix(string json, string expected)
    {
        var manifest = ManifestReader.Parse(json, "/plugins/x", out var errors);

        Assert.Null(manifest);
        Assert.Contains(expected, Assert.Single(errors), StringComparison.Ordinal);
    }
}
