using System.Text.Json;
using System.Text.Json.Nodes;
using GrpcPlugins.Host.Settings;

namespace GrpcPlugins.Host.Hooks.Tenancy;

/// <summary>
/// A tenant scope as the admin API and the store write it: <c>{"only": ["acme"]}</c>,
/// <c>{"except": ["initech"]}</c>, or <c>{}</c> for every tenant.
/// </summary>
internal static class TenantScopeJson
{
    /// <summary>The most tenants one scope may list: as many as a plugin may have settings for, by default.</summary>
    public const int MaxTenants = 10_000;

    private const string Example = "{\"only\": [\"acme\", \"globex\"]}, {\"except\": [\"initech\"]} or {} for every tenant";

    /// <summary>The scope <paramref name="json"/> writes, or null with every problem in <paramref name="errors"/>.</summary>
    public static TenantScope? Read(string json, List<string> errors) =>
        Parse(json, $"write {Example}", errors) is { } root ? Read(root, "$", errors) : null;

    /// <summary>The document <paramref name="json"/> holds, or null with what is wrong and <paramref name="fix"/> in <paramref name="errors"/>.</summary>
    public static JsonElement? Parse(string json, string fix, List<string> errors)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            errors.Add($"$: not JSON ({ex.Message}); {fix}.");
            return null;
        }
    }

    /// <summary>The scope <paramref name="scope"/> writes (found at <paramref name="path"/>), or null with every problem.</summary>
    public static TenantScope? Read(JsonElement scope, string path, List<string> errors)
    {
        var problems = errors.Count;
        if (scope.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"{path}: write an object: {Example}.");
            return null;
        }

        var named = scope.EnumerateObject().ToList();
        foreach (var property in named.Where(p => p.Name is not ("only" or "except")))
        {
            errors.Add($"{path}.{property.Name}: not a scope field; use 'only' or 'except'.");
        }

        var lists = named.Where(p => p.Name is "only" or "except").ToList();
        if (lists.Count > 1)
        {
            errors.Add($"{path}: write 'only' or 'except', not both: a scope either names the tenants a plugin takes or the ones it does not.");
        }

        if (errors.Count > problems)
        {
            return null;
        }

        if (lists.Count == 0)
        {
            return TenantScope.All;
        }

        var list = lists[0];
        var tenants = Tenants(list.Value, $"{path}.{list.Name}", errors);
        return errors.Count > problems ? null : new TenantScope(list.Name == "only" ? TenantScopeMode.Only : TenantScopeMode.Except, tenants);
    }

    /// <summary>The JSON <see cref="Read(string, List{string})"/> takes back.</summary>
    public static JsonObject Write(TenantScope scope) => scope.Mode switch
    {
        TenantScopeMode.Only => new JsonObject { ["only"] = new JsonArray([.. scope.Tenants.Select(t => JsonValue.Create(t))]) },
        TenantScopeMode.Except => new JsonObject { ["except"] = new JsonArray([.. scope.Tenants.Select(t => JsonValue.Create(t))]) },
        _ => [],
    };

    private static List<string> Tenants(JsonElement array, string path, List<string> errors)
    {
        var tenants = new List<string>();
        if (array.ValueKind != JsonValueKind.Array)
        {
            errors.Add($"{path}: write a list of tenant ids, e.g. {Example}.");
            return tenants;
        }

        if (array.GetArrayLength() > MaxTenants)
        {
            errors.Add($"{path}: lists {array.GetArrayLength()} tenants; a scope takes at most {MaxTenants}. Name the few a plugin does not take with 'except' instead.");
            return tenants;
        }

        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            var tenant = item.ValueKind == JsonValueKind.String ? item.GetString()! : null;
            var why = tenant is null ? "write a tenant id as a string"
                : tenant.Length == 0 ? "is empty: a call without a tenant is taken by 'except' scopes and by none that say 'only'."
                : TenantId.Problem(tenant);
            if (why is null)
            {
                tenants.Add(tenant!);
            }
            else
            {
                errors.Add($"{path}[{i}]: {why}");
            }

            i++;
        }

        return tenants;
    }
}
