using System.Net;
using System.Security.Claims;
using System.Text.Json.Nodes;
using Kontext.Broker.Hosting;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.Tokens;

namespace Kontext.Broker.Security;

/// <summary>
/// OIDC bearer tokens (Kontext:Auth:Oidc): ASP.NET Core's JwtBearer handler validates them against the issuer's
/// published keys, audience and lifetime; this turns a validated token into a <see cref="Grant"/>.
/// </summary>
internal static class BearerTokens
{
    public const string Scheme = JwtBearerDefaults.AuthenticationScheme;

    public static void Configure(JwtBearerOptions jwt, OidcOptions oidc)
    {
        jwt.Authority = oidc.Authority;
        jwt.Audience = oidc.Audience;
        jwt.RequireHttpsMetadata = oidc.RequireHttpsMetadata && !IsLoopbackHttp(oidc.Authority);
        jwt.MapInboundClaims = false; // claim names as the issuer wrote them, so the configured claim paths find them
        jwt.BackchannelTimeout = TimeSpan.FromSeconds(10); // an unreachable issuer must not hold requests for the default minute
        jwt.TokenValidationParameters.ValidateAudience = true;
        jwt.TokenValidationParameters.ValidateIssuer = true;
    }

    /// <summary>Start-up checks: an oidc mode without an issuer or an audience would accept nothing, or too much.</summary>
    public static void Validate(OidcOptions oidc)
    {
        if (string.IsNullOrWhiteSpace(oidc.Authority) || !Uri.TryCreate(oidc.Authority, UriKind.Absolute, out var authority))
            throw new InvalidOperationException("Kontext:Auth:Oidc:Authority must be the issuer's absolute URL");
        if (string.IsNullOrWhiteSpace(oidc.Audience))
            throw new InvalidOperationException("Kontext:Auth:Oidc:Audience is required: a token meant for another service must not be accepted");
        if (authority.Scheme != Uri.UriSchemeHttps && oidc.RequireHttpsMetadata && !IsLoopbackHttp(oidc.Authority))
            throw new InvalidOperationException("Kontext:Auth:Oidc:Authority must use https (or set Kontext:Auth:Oidc:RequireHttpsMetadata=false)");
    }

    /// <summary>The grant a validated token carries: its subject, the roles and tenants in the configured claims.</summary>
    public static Grant GrantOf(ClaimsPrincipal token, OidcOptions oidc)
    {
        var roles = Roles.None;
        foreach (var name in ClaimValues(token, oidc.RolesClaim))
            roles |= Grant.ParseRole(name) ?? Roles.None; // an issuer's other roles (offline_access, …) grant nothing here
        var tenants = ClaimValues(token, oidc.TenantsClaim).Select(t => t.Trim()).ToHashSet(StringComparer.Ordinal);
        var subject = token.FindFirst("sub")?.Value ?? token.FindFirst("azp")?.Value ?? token.FindFirst("client_id")?.Value ?? "unknown";
        return new Grant("oidc:" + subject, roles, tenants);
    }

    /// <summary>
    /// The string values at a claim path: a claim of that name (one claim per array element), or a dotted path into a
    /// JSON claim, as Keycloak nests realm roles in realm_access.roles and client roles in resource_access.{client}.roles.
    /// </summary>
    public static IEnumerable<string> ClaimValues(ClaimsPrincipal principal, string path)
    {
        var direct = principal.FindAll(path).Select(c => c.Value).ToList();
        if (direct.Count > 0) return direct;
        var segments = path.Split('.');
        for (var split = segments.Length - 1; split >= 1; split--)
        {
            var claim = principal.FindFirst(string.Join('.', segments[..split]));
            if (claim is null) continue;
            JsonNode? node;
            try { node = JsonNode.Parse(claim.Value); }
            catch (System.Text.Json.JsonException) { return []; }
            foreach (var segment in segments[split..]) node = (node as JsonObject)?[segment];
            return node switch
            {
                JsonArray array => array.OfType<JsonValue>().Select(v => v.TryGetValue<string>(out var s) ? s : null).OfType<string>().ToList(),
                JsonValue value when value.TryGetValue<string>(out var single) => [single],
                _ => [],
            };
        }
        return [];
    }

    /// <summary>Why the handler refused a token, in words safe to return (no token contents).</summary>
    public static string Refusal(Exception? failure) => failure switch
    {
        SecurityTokenExpiredException => "The bearer token has expired",
        SecurityTokenNotYetValidException => "The bearer token is not valid yet",
        SecurityTokenInvalidAudienceException => "The bearer token is meant for another audience",
        SecurityTokenInvalidIssuerException => "The bearer token comes from another issuer",
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "The bearer token's signature does not verify",
        SecurityTokenMalformedException => "The bearer token is malformed",
        HttpRequestException or InvalidOperationException or IOException => "The token issuer's keys could not be fetched; the token cannot be checked",
        _ => "The bearer token is not valid",
    };

    /// <summary>http://localhost, http://127.x.x.x or http://[::1]: a local issuer, for which plain http is acceptable.</summary>
    public static bool IsLoopbackHttp(string? authority) =>
        Uri.TryCreate(authority, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttp
        && (uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip)));
}
