using System.Net.Http.Json;
using System.Text.Json;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Supervisor.Supervision;
using Microsoft.Playwright;

namespace GrpcPlugins.Functional.Tests;

/// <summary>
/// The admin page in a real browser: Debian's chromium driven by Playwright.
/// Set SCREENSHOT_PATH to keep a picture for humans (make screenshot).
/// </summary>
public sealed class AdminPageTests
{
    private const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task Admin_SignsIn_DisablesAPlugin_SeesAFieldError_SavesASetting_AndTheApiAgrees()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: 'make test' installs Debian's chromium package");
        await using var host = await TestHost.StartAsync(PluginFolders.Hello(), PluginFolders.Test("t"));
        await Task.WhenAll(host.WaitForStateAsync("hello", WorkerState.Ready), host.WaitForStateAsync("t", WorkerState.Ready));
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        var page = await browser.NewPageAsync();
        page.SetDefaultTimeout(15_000);

        // Sign in.
        await page.GotoAsync(new Uri(host.Client.BaseAddress!, "/admin").ToString());
        await page.FillAsync("#key", TestHost.AdminKey);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForSelectorAsync("#plugin-t .state-Ready");
        Assert.Equal("Ready", await page.TextContentAsync("#plugin-hello .state"));

        // Disable a plugin.
        await page.ClickAsync("#plugin-t .action-disable");
        await page.WaitForSelectorAsync("#plugin-t .state-Stopped");
        var disabled = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t");
        Assert.Equal("Stopped", disabled.GetProperty("state").GetString());

        // An invalid value shows its error beside the field, and nothing is saved.
        await page.ClickAsync("#plugin-t .action-settings");
        await page.FillAsync("#setting-limit", "0");
        await page.ClickAsync("#save-settings");
        await page.WaitForSelectorAsync("#error-limit:not(:empty)");
        Assert.Equal(0, (await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t/settings")).GetProperty("revision").GetInt64());

        // A valid value is saved, and the API agrees.
        await page.FillAsync("#setting-limit", "5");
        await page.FillAsync("#setting-greeting", "from the browser");
        await page.FillAsync("#setting-apiKey", "browser-secret");
        await page.ClickAsync("#save-settings");
        await page.WaitForSelectorAsync("#settings-saved:has-text('Saved')");
        var stored = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t/settings");
        Assert.Equal(5, stored.GetProperty("settings").GetProperty("limit").GetInt32());
        Assert.Equal("from the browser", stored.GetProperty("settings").GetProperty("greeting").GetString());
        Assert.Equal("********", stored.GetProperty("settings").GetProperty("apiKey").GetString());

        if (Environment.GetEnvironmentVariable("SCREENSHOT_PATH") is { Length: > 0 } path)
        {
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        }
    }

    [Fact]
    public async Task AdminPage_WithoutTheKey_ShowsOnlyTheSignInForm()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));

        var response = await host.Client.GetAsync("/admin");
        var wrong = await host.Client.PostAsync("/admin/login", new FormUrlEncodedContent([new("key", "guess")]));

        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("Admin API key", html, StringComparison.Ordinal);
        Assert.DoesNotContain("/admin/api/plugins", html, StringComparison.Ordinal);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Contains("not the admin key", await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
