using Microsoft.Playwright;

namespace GrpcPlugins.Functional.Tests.Infrastructure;

/// <summary>
/// One chromium (and one Playwright driver) for a test class: starting both took about two
/// seconds of CPU a test. Each test still gets a browser context of its own, so no cookie,
/// storage or open page outlives it (<see cref="CloseContextsAsync"/>).
/// </summary>
public sealed class SharedBrowser : IAsyncLifetime
{
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("the browser has not been launched");

    public async Task InitializeAsync()
    {
        _playwright = await Playwright.CreateAsync();
        _browser = await AdminPageTests.LaunchAsync(_playwright);
    }

    /// <summary>Closes every context a test opened (each page it signed in on has its own), so the next test starts with none.</summary>
    public async Task CloseContextsAsync()
    {
        foreach (var context in Browser.Contexts)
        {
            await context.CloseAsync();
        }
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
    }
}
