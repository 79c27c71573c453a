using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Supervisor.Supervision;

namespace GrpcPlugins.Functional.Tests;

/// <summary>The Sdk as a package: the example builds against the .nupkg from a local folder feed (`make pack`) and runs.</summary>
public sealed class SdkPackageTests
{
    [Fact]
    public async Task ExampleBuiltAgainstThePackage_RunsUnderTheHost()
    {
        var package = TestPaths.Package("GrpcPlugins.Sdk");
        var version = Path.GetFileNameWithoutExtension(package)["GrpcPlugins.Sdk.".Length..];
        var work = Directory.CreateTempSubdirectory("gpt-pkg-").FullName;
        try
        {
            File.Copy(Path.Combine(TestPaths.RepoRoot, "examples/hello/Program.cs"), Path.Combine(work, "Program.cs"));
            await File.WriteAllTextAsync(Path.Combine(work, "Hello.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <Nullable>enable</Nullable>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <AssemblyName>Hello</AssemblyName>
                    <RestorePackagesPath>{Path.Combine(work, "packages")}</RestorePackagesPath>
                    <RestoreAdditionalProjectSources>{TestPaths.Packages}</RestoreAdditionalProjectSources>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="GrpcPlugins.Sdk" Version="{version}" />
                  </ItemGroup>
                </Project>
                """);
            var (code, output) = await DotnetCli.RunAsync(["build", "-c", "Release", "-o", Path.Combine(work, "out"), "--nologo", "-v", "q"], work);
            Assert.True(code == 0, output);

            // The package brings the Sdk's NativeAOT defaults for a fast start (build/GrpcPlugins.Sdk.props).
            var (propertiesCode, properties) = await DotnetCli.RunAsync(["msbuild", "-getProperty:IlcDehydrate", "-getProperty:PositionIndependentExecutable", "-nologo"], work);
            Assert.True(propertiesCode == 0, properties);
            var values = JsonNode.Parse(properties)!["Properties"]!;
            Assert.Equal("false", (string?)values["IlcDehydrate"]);
            Assert.Equal("false", (string?)values["PositionIndependentExecutable"]);

            // ... and ReadyToRun for a JIT plugin published for a runtime, but not beside NativeAOT
            // (build/GrpcPlugins.Sdk.targets), as one composite image when self-contained and trimmed.
            Assert.Equal("true", await PropertyAsync(work, "PublishReadyToRun", "-p:RuntimeIdentifier=linux-x64"));
            Assert.Equal("true", await PropertyAsync(work, "PublishReadyToRun", "-p:UseCurrentRuntimeIdentifier=true"));
            Assert.Equal(string.Empty, await PropertyAsync(work, "PublishReadyToRun"));
            Assert.NotEqual("true", await PropertyAsync(work, "PublishReadyToRun", "-p:RuntimeIdentifier=linux-x64", "-p:PublishAot=true"));
            Assert.NotEqual("true", await PropertyAsync(work, "PublishReadyToRunComposite", "-p:RuntimeIdentifier=linux-x64", "-p:SelfContained=true"));
            Assert.Equal("true", await PropertyAsync(work, "PublishReadyToRunComposite", "-p:RuntimeIdentifier=linux-x64", "-p:SelfContained=true", "-p:PublishTrimmed=true"));

            var manifest = new JsonObject
            {
                ["id"] = "hello",
                ["version"] = "1.0.0",
                ["command"] = "dotnet",
                ["args"] = new JsonArray(Path.Combine(work, "out", "Hello.dll")),
                ["hooks"] = PluginFolders.HelloHooks(),
                ["routes"] = new JsonArray(new JsonObject { ["method"] = "GET", ["path"] = "/ping", ["anonymous"] = true }),
            };
            await using var host = await TestHost.StartAsync(manifest);
            await host.WaitForStateAsync("hello", WorkerState.Ready);
            var pong = await host.Client.GetFromJsonAsync<JsonElement>("/plugins/hello/ping");

            Assert.Equal("1.0.0", pong.GetProperty("version").GetString());
            Assert.True(File.Exists(Path.Combine(work, "packages", "grpcplugins.sdk", version, "grpcplugins.sdk." + version + ".nupkg")), "the build did not use the package");

            // A runtime set in the project's own body counts too, not only one on the command line.
            var project = Path.Combine(work, "Hello.csproj");
            await File.WriteAllTextAsync(project, (await File.ReadAllTextAsync(project)).Replace("<AssemblyName>", "<RuntimeIdentifier>linux-x64</RuntimeIdentifier><AssemblyName>", StringComparison.Ordinal));
            Assert.Equal("true", await PropertyAsync(work, "PublishReadyToRun"));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task<string> PropertyAsync(string work, string name, params string[] properties)
    {
        var (code, output) = await DotnetCli.RunAsync(["msbuild", $"-getProperty:{name}", "-nologo", .. properties], work);
        Assert.True(code == 0, output);
        return output.Trim();
    }
}
