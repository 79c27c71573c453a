using GrpcPlugins.Host.Hosting;

namespace GrpcPlugins.Host.Tests;

public sealed class PluginHostOptionsValidatorTests
{
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

    [Fact]
    public void WorkerEnvironment_WithOrdinaryVariables_IsAccepted()
    {
        var options = new PluginHostOptions();
        options.WorkerEnvironment["DOTNET_TieredPGO"] = "0";
        options.WorkerEnvironment["HTTPS_PROXY"] = "http://proxy:3128";

        Assert.True(new PluginHostOptionsValidator().Validate(null, options).Succeeded);
    }
}
