namespace Kontext.Broker.Security;

/// <summary>The credentials the broker accepts (Kontext:Auth:Mode): none, apikey, oidc, or apikey,oidc.</summary>
[Flags]
internal enum AuthModes
{
    None = 0,
    ApiKey = 1,
    Oidc = 2,
}

internal static class AuthModeSetting
{
    public static AuthModes Parse(string? setting)
    {
        var modes = AuthModes.None;
        foreach (var part in (setting ?? "none").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            modes |= part.ToLowerInvariant() switch
            {
                "none" => AuthModes.None,
                "apikey" => AuthModes.ApiKey,
                "oidc" => AuthModes.Oidc,
                _ => throw new InvalidOperationException($"Kontext:Auth:Mode '{setting}' is not none, apikey, oidc or apikey,oidc"),
            };
        }
        if (modes != AuthModes.None && setting!.Contains("none", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException($"Kontext:Auth:Mode '{setting}': none cannot be combined with another mode");
        return modes;
    }
}
