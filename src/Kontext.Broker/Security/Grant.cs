using System.Security.Claims;

namespace Kontext.Broker.Security;

/// <summary>The roles a caller can hold. Admin includes read and write; write does not include read (a sensor may only write).</summary>
[Flags]
internal enum Roles
{
    None = 0,
    Read = 1,
    Write = 2,
    Admin = 4,
}

/// <summary>What an authenticated caller may do: its roles, over its tenants.</summary>
internal sealed record Grant(string Principal, Roles Roles, IReadOnlySet<string> Tenants)
{
    /// <summary>The name of the default tenant (no NGSILD-Tenant header) in a Tenants list; the name Stellio uses for it.</summary>
    public const string DefaultTenant = "urn:ngsi-ld:tenant:default";

    /// <summary>Every tenant, present and future.</summary>
    public const string AllTenants = "*";

    public bool Holds(Roles role) => (Roles & Roles.Admin) != 0 || (Roles & role) == role;

    /// <summary>Whether the grant reaches the tenant (null: the default tenant).</summary>
    public bool Covers(string? tenant) => Tenants.Contains(AllTenants) || Tenants.Contains(tenant ?? DefaultTenant);

    public bool CoversAllTenants => Tenants.Contains(AllTenants);

    /// <summary>The caller as ASP.NET Core sees it (HttpContext.User): its name partitions the rate limits.</summary>
    public ClaimsPrincipal ToPrincipal() => new(new ClaimsIdentity([new Claim(ClaimTypes.Name, Principal)], "kontext"));

    /// <summary>Parses a role name from configuration or a token; null for any other name.</summary>
    public static Roles? ParseRole(string name) => name.Trim().ToLowerInvariant() switch
    {
        "read" => Roles.Read,
        "write" => Roles.Write,
        "admin" => Roles.Admin,
        _ => null,
    };
}
