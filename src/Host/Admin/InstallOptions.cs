using System.Text.Json;
using GrpcPlugins.Host.Hooks.Tenancy;

namespace GrpcPlugins.Host.Admin;

/// <summary>The optional body of an install: <c>{"tenantScope": {...}}</c>, so a plugin is installed for some tenants from its first call.</summary>
internal static class InstallOptions
{
    /// <summary>The scope the body asks for; null when there is no body or it names none. Problems go to <paramref name="errors"/>.</summary>
    public static TenantScope? ReadTenantScope(string body, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return null;
        }

        const string Fix = "write an object such as {\"tenantScope\": {\"only\": [\"acme\"]}}";
        if (TenantScopeJson.Parse(body, Fix, errors) is not { } root)
        {
            return null;
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"$: {Fix}.");
            return null;
        }

        foreach (var property in root.EnumerateObject().Where(p => p.Name != "tenantScope"))
        {
            errors.Add($"$.{property.Name}: not an install option; the only one is 'tenantScope'.");
        }

        return root.TryGetProperty("tenantScope", out var scope) ? TenantScopeJson.Read(scope, "$.tenantScope", errors) : null;
    }
}
