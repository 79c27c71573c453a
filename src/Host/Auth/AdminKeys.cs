using GrpcPlugins.Host.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace GrpcPlugins.Host.Auth;

/// <summary>
/// The admin keys in force. They follow the configuration as it reloads (appsettings.json, a
/// mounted secret file), so a key is added, rotated or revoked without restarting the host and
/// its plugins; the other options take effect at the next start. A reloaded configuration that
/// fails validation is refused whole and the keys stay as they were: a typo must not lock every
/// admin out, nor let a short key in.
/// </summary>
internal sealed partial class AdminKeys : IDisposable
{
    private readonly IOptionsFactory<PluginHostOptions> _factory;
    private readonly ILogger<AdminKeys> _logger;
    private readonly IDisposable? _reloads;
    private AdminKeySet _current;

    public AdminKeys(IOptions<PluginHostOptions> options, IOptionsFactory<PluginHostOptions> factory, ILogger<AdminKeys> logger, IConfiguration? configuration = null)
    {
        _factory = factory;
        _logger = logger;
        _current = AdminKeySet.From(options.Value);
        if (configuration is not null)
        {
            _reloads = ChangeToken.OnChange(configuration.GetReloadToken, Reload);
            // Made at the first admin request, perhaps after reloads nobody was listening for.
            Reload();
        }
    }

    public AdminKeySet Current => Volatile.Read(ref _current);

    /// <summary>Reads the keys from the configuration as it is now (called on every reload).</summary>
    internal void Reload()
    {
        PluginHostOptions options;
        try
        {
            // The same binding, code and validation as at start, so a reload cannot take a key the start would have refused.
            options = _factory.Create(Options.DefaultName);
        }
        catch (OptionsValidationException ex)
        {
            Log.ReloadRefused(_logger, string.Join(" ", ex.Failures));
            return;
        }

        var next = AdminKeySet.From(options);
        if (!next.SameAs(Current))
        {
            Volatile.Write(ref _current, next);
            Log.Reloaded(_logger, next.IsEmpty ? "none (every protected endpoint answers 401)" : string.Join(", ", next.Names));
        }
    }

    public void Dispose() => _reloads?.Dispose();

    private static partial class Log
    {
        [LoggerMessage(EventId = 1070, EventName = "AdminKeysReloaded", Level = LogLevel.Information, Message = "Admin keys reloaded from configuration; keys now held by: {Holders}")]
        public static partial void Reloaded(ILogger logger, string holders);

        [LoggerMessage(EventId = 1071, EventName = "AdminKeysReloadRefused", Level = LogLevel.Error, Message = "The reloaded configuration is refused and the admin keys stay as they were: {Problems} Fix the configuration; it is read again when it changes")]
        public static partial void ReloadRefused(ILogger logger, string problems);
    }
}
