using System.Security.Claims;
using Kontext.Broker.Security;
using Kontext.Broker.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Kontext.Broker.Tests.Security;

/// <summary>The rights table against the routes the broker actually maps, and the claim shapes of tokens.</summary>
[Collection(BrokerCollection.Name)]
public sealed class RouteRightsTests(BrokerFixture fx)
{
    private List<(string Method, string Pattern)> MappedRoutes() =>
        fx.Factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["(any method)"]).Select(m => (m, RouteRights.Normalize(e.RoutePattern.RawText ?? ""))))
            .ToList();

    [Fact]
    public void Every_mapped_route_declares_its_access_right()
    {
        var routes = MappedRoutes();
        routes.Should().HaveCountGreaterThan(40);
        routes.Where(r => RouteRights.For(r.Method, r.Pattern) is null).Should().BeEmpty("every route needs a line in Security/RouteRights.cs");
    }

    [Fact]
    public void Every_declared_right_belongs_to_a_mapped_route()
    {
        RouteRights.Declared.Except(MappedRoutes()).Should().BeEmpty("a stale line in RouteRights guards nothing");
    }

    [Fact]
    public void Only_probes_public_documents_and_vendor_ingest_need_no_principal()
    {
        MappedRoutes().Where(r => RouteRights.For(r.Method, r.Pattern)?.Gate != Gate.Principal).Select(r => $"{r.Method} {r.Pattern}")
            .Should().BeEquivalentTo(
                "GET /health", "GET /health/live", "GET /health/ready", "GET /version", "GET /metrics",
                "GET /openapi/{documentName}.json", "GET /docs/{documentName?}", "GET /docs/scalar.js", "GET /docs/scalar.aspnetcore.js", "GET /docs/favicon.svg",
                "GET /console", "GET /console/{*path}",
                "GET /ngsi-ld/v1/jsonldContexts/{contextId}", "GET /adapters/contexts/{subject}.jsonld",
                "POST /adapters/tts/{source}", "POST /adapters/chirpstack/{source}", "POST /adapters/json/{source}");
    }

    [Fact]
    public async Task Bearer_scheme_is_not_a_default_scheme_run_on_every_request()
    {
        var schemes = fx.Factory.Services.GetRequiredService<Microsoft.AspNetCore.Authentication.IAuthenticationSchemeProvider>();
        (await schemes.GetSchemeAsync(BearerTokens.Scheme)).Should().NotBeNull();
        (await schemes.GetDefaultAuthenticateSchemeAsync()).Should().BeNull("only the access check asks for a token, where a route needs one");
    }
}

public sealed class AccessUnitTests
{
    [Fact]
    public void Keycloak_realm_roles_are_read_from_realm_access_roles()
    {
        var token = new ClaimsPrincipal(new ClaimsIdentity(
        [
            new Claim("sub", "u1"),
            new Claim("realm_access", """{"roles": ["read", "offline_access", "write"]}""", "JSON"),
            new Claim("tenants", "city"),
            new Claim("tenants", "harbour"),
        ], "test"));
        var grant = BearerTokens.GrantOf(token, new Kontext.Broker.Hosting.OidcOptions { RolesClaim = "realm_access.roles", TenantsClaim = "tenants" });
        grant.Roles.Should().Be(Roles.Read | Roles.Write);
        grant.Tenants.Should().BeEquivalentTo("city", "harbour");
        grant.Principal.Should().Be("oidc:u1");
    }

    [Fact]
    public void Keycloak_client_roles_are_read_from_resource_access()
    {
        var token = new ClaimsPrincipal(new ClaimsIdentity(
            [new Claim("resource_access", """{"kontext": {"roles": ["admin"]}, "account": {"roles": ["read"]}}""", "JSON")], "test"));
        BearerTokens.ClaimValues(token, "resource_access.kontext.roles").Should().Equal("admin");
    }

    [Fact]
    public void Admin_holds_every_role_and_write_does_not_include_read()
    {
        var admin = new Grant("a", Roles.Admin, new HashSet<string> { "*" });
        var sensor = new Grant("s", Roles.Write, new HashSet<string> { "city" });
        admin.Holds(Roles.Read).Should().BeTrue();
        admin.Holds(Roles.Write).Should().BeTrue();
        sensor.Holds(Roles.Write).Should().BeTrue();
        sensor.Holds(Roles.Read).Should().BeFalse();
        sensor.Covers("city").Should().BeTrue();
        sensor.Covers(null).Should().BeFalse();
        admin.Covers(null).Should().BeTrue();
    }

    [Theory]
    [InlineData("http://127.0.0.1:1026", true)]
    [InlineData("http://localhost:1026", true)]
    [InlineData("http://[::1]:1026", true)]
    [InlineData("http://0.0.0.0:1026", false)]
    [InlineData("http://[::]:1026", false)]
    [InlineData("http://+:80", false)]
    [InlineData("http://*:1026", false)]
    [InlineData("https://broker.city.example:443", false)]
    public void Listening_address_is_loopback_only_when_it_reaches_no_other_machine(string address, bool loopback)
    {
        SecurityServices.IsLoopback(address).Should().Be(loopback);
    }

    [Theory]
    [InlineData("none", 0)]
    [InlineData("apikey", 1)]
    [InlineData("oidc", 2)]
    [InlineData("apikey,oidc", 3)]
    [InlineData(" OIDC , ApiKey ", 3)]
    public void Auth_mode_setting_parses(string setting, int expected)
    {
        AuthModeSetting.Parse(setting).Should().Be((AuthModes)expected);
    }
}

/// <summary>Kontext:Auth settings that cannot work stop the broker at start-up instead of leaving it open or shut.</summary>
public sealed class AuthSettingsTests
{
    [Theory]
    [InlineData("Kontext:Auth:Mode", "password")]
    [InlineData("Kontext:Auth:Mode", "apikey")] // and no key configured
    [InlineData("Kontext:Auth:Mode", "oidc")] // and no authority or audience
    public async Task Broker_refuses_to_start_with_unusable_auth_settings(string key, string value)
    {
        var factory = new BrokerFactory(settings: new Dictionary<string, string?> { [key] = value });
        try
        {
            var start = () => factory.CreateClient();
            start.Should().Throw<InvalidOperationException>().WithMessage("*Kontext:Auth*");
        }
        finally
        {
            await factory.DisposeAsync();
            factory.DeleteData();
        }
    }

    [Fact]
    public async Task Broker_refuses_an_api_key_with_an_unknown_role()
    {
        var factory = new BrokerFactory(settings: new Dictionary<string, string?>
        {
            ["Kontext:Auth:Mode"] = "apikey",
            ["Kontext:Auth:ApiKeys:k:Key"] = "some-key-0123456789",
            ["Kontext:Auth:ApiKeys:k:Tenants:0"] = "*",
            ["Kontext:Auth:ApiKeys:k:Roles:0"] = "superuser",
        });
        try
        {
            var start = () => factory.CreateClient();
            start.Should().Throw<InvalidOperationException>().WithMessage("*Roles*superuser*");
        }
        finally
        {
            await factory.DisposeAsync();
            factory.DeleteData();
        }
    }
}
