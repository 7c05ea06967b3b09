using Kontext.Adapters;
using System.Security.Cryptography;
using System.Text;
using Kontext.Broker.Hosting;
using Kontext.Broker.Http;
using Kontext.Ngsi.Storage;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Kontext.Broker.Security;

/// <summary>Who is calling: a grant, a refused credential (with the reason), or nobody (anonymous).</summary>
internal sealed record Caller(Grant? Grant, string? Refusal)
{
    public static readonly Caller Anonymous = new(null, null);
    public static Caller Refused(string reason) => new(null, reason);
}

/// <summary>
/// The one access check (D12). Each request to a mapped route passes it in two steps around the rate limiter:
/// <see cref="IdentifyAsync"/> reads the credential (API key or bearer token) so limits apply per principal, then
/// <see cref="AuthorizeAsync"/> decides from the route's rule (<see cref="RouteRights"/>) and the request's tenant.
/// </summary>
internal sealed class AccessCheck
{
    public const string ApiKeyHeader = "X-Api-Key";
    public const string AdminKeyHeader = "X-Admin-Key";

    private readonly AuthModes _modes;
    private readonly ApiKeyRing _keys;
    private readonly OidcOptions _oidc;
    private readonly byte[]? _adminKeyDigest;
    private readonly IEntityStorage _storage;
    private readonly ILogger<AccessCheck> _logger;

    public AccessCheck(IOptions<KontextOptions> options, IOptions<AdapterOptions> adapters, IEntityStorage storage, ILogger<AccessCheck> logger)
    {
        var auth = options.Value.Auth;
        _modes = AuthModeSetting.Parse(auth.Mode);
        _keys = new ApiKeyRing(auth);
        _oidc = auth.Oidc;
        if (_modes.HasFlag(AuthModes.ApiKey) && _keys.Count == 0)
            throw new InvalidOperationException("Kontext:Auth:Mode includes apikey but Kontext:Auth:ApiKeys names no key");
        if (_modes.HasFlag(AuthModes.Oidc)) BearerTokens.Validate(_oidc);
        var adminKey = adapters.Value.AdminApiKey;
        _adminKeyDigest = string.IsNullOrEmpty(adminKey) ? null : SHA256.HashData(Encoding.UTF8.GetBytes(adminKey));
        _storage = storage;
        _logger = logger;
    }

    public AuthModes Modes => _modes;

    /// <summary>Step one: the caller behind the credential, kept for step two; a known caller becomes HttpContext.User.</summary>
    public Task IdentifyAsync(HttpContext http, RequestDelegate next) =>
        _modes != AuthModes.None && RuleOf(http) is { Gate: Gate.Principal } ? IdentifyThenAsync(http, next) : next(http);

    private async Task IdentifyThenAsync(HttpContext http, RequestDelegate next)
    {
        var caller = await AuthenticateAsync(http);
        http.Features.Set(caller);
        if (caller.Grant is { } grant) http.User = grant.ToPrincipal();
        await next(http);
    }

    /// <summary>Step two: lets the request through, or answers 401 / 403 as ProblemDetails.</summary>
    public Task AuthorizeAsync(HttpContext http, RequestDelegate next)
    {
        if (http.GetEndpoint() is RouteEndpoint route)
        {
            var rule = RouteRights.For(http.Request.Method, route.RoutePattern.RawText ?? "");
            if (rule is null)
            {
                _logger.LogError("Route {Method} {Pattern} declares no access right in RouteRights; refused", http.Request.Method, route.RoutePattern.RawText);
                throw AccessProblems.Forbidden("This route declares no access right, so it is closed");
            }
            // Mode none lets every caller through to a route that is not an operator's (what DecideAsync concludes then).
            if (rule.Gate == Gate.Principal && (_modes != AuthModes.None || rule.Operator)) return DecideThenAsync(http, rule, next);
        }
        return next(http); // a route open to all: no state machine on the way through
    }

    private async Task DecideThenAsync(HttpContext http, RouteRule rule, RequestDelegate next)
    {
        await DecideAsync(http, rule, http.Features.Get<Caller>() ?? Caller.Anonymous);
        await next(http);
    }

    private static RouteRule? RuleOf(HttpContext http) =>
        http.GetEndpoint() is RouteEndpoint route ? RouteRights.For(http.Request.Method, route.RoutePattern.RawText ?? "") : null;

    private async Task DecideAsync(HttpContext http, RouteRule rule, Caller caller)
    {
        if (rule.Operator && http.Request.Headers.TryGetValue(AdminKeyHeader, out var adminKey))
        {
            if (_adminKeyDigest is not null
                && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(adminKey.ToString())), _adminKeyDigest))
                return;
            throw Unauthorized(http, $"Wrong {AdminKeyHeader}");
        }
        if (caller.Refusal is { } refusal) throw Unauthorized(http, refusal);
        if (caller.Grant is not { } grant)
        {
            if (_modes != AuthModes.None)
                throw Unauthorized(http, "This resource needs a credential: Authorization: Bearer <token>, Authorization: ApiKey <key> or X-Api-Key");
            if (!rule.Operator) return; // Mode none: the broker is open, as configured
            throw _adminKeyDigest is not null
                ? Unauthorized(http, $"The adapter admin endpoints need {AdminKeyHeader}")
                : AccessProblems.Forbidden("The adapter admin endpoints are closed: set Kontext:Adapters:AdminApiKey or turn on Kontext:Auth with an admin key or role");
        }

        var tenant = Tenant(http);
        var tenantName = tenant ?? "the default tenant";
        if (rule.AllTenants && !grant.CoversAllTenants)
            throw Refuse(grant, http, "This changes state shared by every tenant: it needs the admin role over all tenants (*)");
        if (!grant.Covers(tenant))
            throw Refuse(grant, http, $"No access to {(tenant is null ? tenantName : $"tenant '{tenant}'")}");
        if (!grant.Holds(rule.Needs))
            throw Refuse(grant, http, $"This needs the {rule.Needs.ToString().ToLowerInvariant()} role");
        // The first write to a tenant creates it (D6): creating a tenant is the admin's decision.
        if (rule.Needs == Roles.Write && tenant is not null && !grant.Holds(Roles.Admin)
            && await _storage.GetTenantAsync(tenant, create: false, http.RequestAborted) is null)
            throw Refuse(grant, http, $"The tenant '{tenant}' does not exist; creating a tenant needs the admin role");
    }

    private async Task<Caller> AuthenticateAsync(HttpContext http)
    {
        var authorization = http.Request.Headers.Authorization.ToString().Trim();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || authorization.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
        {
            if (!_modes.HasFlag(AuthModes.Oidc)) return Caller.Refused("Bearer tokens are not accepted here (Kontext:Auth:Mode has no oidc)");
            var result = await http.AuthenticateAsync(BearerTokens.Scheme);
            if (result.Succeeded) return new Caller(BearerTokens.GrantOf(result.Principal, _oidc), null);
            _logger.LogDebug(result.Failure, "Bearer token refused on {Method} {Path}", http.Request.Method, http.Request.Path);
            return Caller.Refused(result.None ? "The bearer token is empty" : BearerTokens.Refusal(result.Failure));
        }
        // Other Authorization schemes (a proxy's Basic, say) are not ours: the API key may still come in X-Api-Key.
        var key = authorization.StartsWith("ApiKey ", StringComparison.OrdinalIgnoreCase) ? authorization["ApiKey ".Length..].Trim()
            : http.Request.Headers.TryGetValue(ApiKeyHeader, out var header) ? header.ToString().Trim()
            : null;
        if (key is null) return Caller.Anonymous;
        if (!_modes.HasFlag(AuthModes.ApiKey)) return Caller.Refused("API keys are not accepted here (Kontext:Auth:Mode has no apikey)");
        return _keys.Find(key) is { } grant ? new Caller(grant, null) : Caller.Refused("Unknown API key");
    }

    /// <summary>The request's tenant, read and checked by the one tenant reader (an invalid name is 400 before any right is weighed).</summary>
    private static string? Tenant(HttpContext http) => NgsiRequest.ReadTenant(http);

    private Kontext.Ngsi.Errors.NgsiException Refuse(Grant grant, HttpContext http, string detail)
    {
        _logger.LogInformation("Access refused to {Principal} on {Method} {Path}: {Reason}", grant.Principal, http.Request.Method, http.Request.Path, detail);
        return AccessProblems.Forbidden(detail);
    }

    /// <summary>A 401 with the WWW-Authenticate challenge of each accepted scheme (added as the response starts: the ProblemDetails writer clears headers).</summary>
    private Kontext.Ngsi.Errors.NgsiException Unauthorized(HttpContext http, string detail)
    {
        var schemes = new List<string>();
        if (_modes.HasFlag(AuthModes.Oidc)) schemes.Add("Bearer realm=\"kontext\"");
        if (_modes.HasFlag(AuthModes.ApiKey)) schemes.Add("ApiKey realm=\"kontext\"");
        if (schemes.Count > 0)
            http.Response.OnStarting(() =>
            {
                http.Response.Headers.WWWAuthenticate = string.Join(", ", schemes);
                return Task.CompletedTask;
            });
        return AccessProblems.Unauthorized(detail);
    }
}
