namespace GrpcPlugins.Host.Settings;

/// <summary>What a plugin's stored settings take: tenant scopes (the plugin-wide one not counted) and bytes of JSON.</summary>
internal readonly record struct SettingsUsage(int TenantScopes, long Bytes);
