using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Kontext.Broker.Tests.Security;

/// <summary>
/// A real OIDC token issuer on 127.0.0.1 (free port), shaped like a Keycloak realm: it serves the discovery document and
/// the JWKS of an RSA key made here, and signs tokens with realm roles in realm_access.roles and a "tenants" claim.
/// </summary>
public sealed class TokenIssuer : IAsyncDisposable
{
    public const string KeyId = "kontext-test-key";
    private readonly WebApplication _app;
    private readonly RsaSecurityKey _key = new(RSA.Create(2048)) { KeyId = KeyId };

    private TokenIssuer(WebApplication app) => _app = app;

    /// <summary>The issuer URL (the "iss" of its tokens and Kontext:Auth:Oidc:Authority).</summary>
    public string Authority { get; private set; } = "";

    public static async Task<TokenIssuer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var issuer = new TokenIssuer(app);
        app.Run(issuer.ServeAsync);
        await app.StartAsync();
        issuer.Authority = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/realms/city";
        return issuer;
    }

    /// <summary>A token signed by this issuer (or by <paramref name="signWith"/>), valid now unless <paramref name="expired"/>.</summary>
    public string Token(string[] roles, string[] tenants, string audience = "kontext", bool expired = false, RsaSecurityKey? signWith = null, string subject = "user-1")
    {
        var now = DateTime.UtcNow;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = Authority,
            Audience = audience,
            IssuedAt = expired ? now.AddHours(-2) : now,
            NotBefore = expired ? now.AddHours(-2) : now.AddMinutes(-1),
            Expires = expired ? now.AddHours(-1) : now.AddMinutes(10),
            Claims = new Dictionary<string, object>
            {
                ["sub"] = subject,
                ["realm_access"] = new Dictionary<string, object> { ["roles"] = roles.Append("offline_access").ToArray() },
                ["tenants"] = tenants,
            },
            SigningCredentials = new SigningCredentials(signWith ?? _key, SecurityAlgorithms.RsaSha256),
        };
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }

    /// <summary>A key the issuer never published, under the issuer's own key id: its signatures must not verify.</summary>
    public static RsaSecurityKey ForeignKey() => new(RSA.Create(2048)) { KeyId = KeyId };

    private async Task ServeAsync(HttpContext http)
    {
        var path = http.Request.Path.Value ?? "";
        object? document = path switch
        {
            "/realms/city/.well-known/openid-configuration" => Discovery(),
            "/realms/city/protocol/openid-connect/certs" => Jwks(),
            _ => null,
        };
        if (document is null)
        {
            http.Response.StatusCode = 404;
            return;
        }
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(JsonSerializer.Serialize(document));
    }

    private object Discovery() => new Dictionary<string, object>
    {
        ["issuer"] = Authority,
        ["jwks_uri"] = Authority + "/protocol/openid-connect/certs",
        ["authorization_endpoint"] = Authority + "/protocol/openid-connect/auth",
        ["token_endpoint"] = Authority + "/protocol/openid-connect/token",
        ["response_types_supported"] = new[] { "code" },
        ["subject_types_supported"] = new[] { "public" },
        ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
    };

    private object Jwks()
    {
        var parameters = _key.Rsa.ExportParameters(includePrivateParameters: false);
        return new
        {
            keys = new[]
            {
                new { kty = "RSA", use = "sig", alg = "RS256", kid = KeyId, n = Base64UrlEncoder.Encode(parameters.Modulus), e = Base64UrlEncoder.Encode(parameters.Exponent) },
            },
        };
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
