using System.Net;
using Kontext.Broker.Tests.Infrastructure;
using static Kontext.Broker.Tests.Security.AuthFixture;

namespace Kontext.Broker.Tests.Security;

/// <summary>OIDC bearer tokens from a real issuer on 127.0.0.1 (Keycloak shapes: realm_access.roles, a tenants claim).</summary>
[Collection(AuthCollection.Name)]
public sealed class BearerTokenAccessTests(AuthFixture fx)
{
    private static string Thing(string id) => $$"""{"id": "{{id}}", "type": "Thing"}""";

    [Fact]
    public async Task Valid_token_with_roles_creates_and_reads_an_entity()
    {
        var token = fx.Issuer.Token(roles: ["read", "write"], tenants: [City]);
        var id = Api.NewId();
        await (await fx.Send(HttpMethod.Post, Api.Entities, Bearer(token), Thing(id), tenant: City)).ShouldBeAsync(HttpStatusCode.Created);
        await (await fx.Send(HttpMethod.Get, $"{Api.Entities}/{id}", Bearer(token), tenant: City)).ShouldBeAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Expired_token_returns_401()
    {
        var token = fx.Issuer.Token(roles: ["read"], tenants: [City], expired: true);
        await (await fx.Send(HttpMethod.Get, Api.Entities + "?type=Thing", Bearer(token), tenant: City)).ShouldBeRefusedAsync(HttpStatusCode.Unauthorized, AccessAssertions.Unauthorized);
    }

    [Fact]
    public async Task Token_for_another_audience_returns_401()
    {
        var token = fx.Issuer.Token(roles: ["read"], tenants: [City], audience: "another-service");
        await (await fx.Send(HttpMethod.Get, Api.Entities + "?type=Thing", Bearer(token), tenant: City)).ShouldBeRefusedAsync(HttpStatusCode.Unauthorized, AccessAssertions.Unauthorized);
    }

    [Fact]
    public async Task Token_signed_by_another_key_returns_401()
    {
        var token = fx.Issuer.Token(roles: ["admin"], tenants: ["*"], signWith: TokenIssuer.ForeignKey());
        await (await fx.Send(HttpMethod.Get, Api.Entities + "?type=Thing", Bearer(token), tenant: City)).ShouldBeRefusedAsync(HttpStatusCode.Unauthorized, AccessAssertions.Unauthorized);
    }

    [Fact]
    public async Task Malformed_token_returns_401()
    {
        await (await fx.Send(HttpMethod.Get, Api.Entities + "?type=Thing", Bearer("not.a.token"), tenant: City)).ShouldBeRefusedAsync(HttpStatusCode.Unauthorized, AccessAssertions.Unauthorized);
    }

    [Fact]
    public async Task Token_lacking_the_tenant_returns_403()
    {
        var token = fx.Issuer.Token(roles: ["read", "write"], tenants: ["another-city"]);
        await (await fx.Send(HttpMethod.Get, Api.Entities + "?type=Thing", Bearer(token), tenant: City)).ShouldBeRefusedAsync(HttpStatusCode.Forbidden, AccessAssertions.Forbidden);
    }

    [Fact]
    public async Task Token_with_the_read_role_writing_returns_403()
    {
        var token = fx.Issuer.Token(roles: ["read"], tenants: [City]);
        await (await fx.Send(HttpMethod.Post, Api.Entities, Bearer(token), Thing(Api.NewId()), tenant: City)).ShouldBeRefusedAsync(HttpStatusCode.Forbidden, AccessAssertions.Forbidden);
    }

    [Fact]
    public async Task Token_with_the_admin_role_purges_and_creates_a_tenant()
    {
        var writer = fx.Issuer.Token(roles: ["write"], tenants: ["*"]);
        var admin = fx.Issuer.Token(roles: ["admin"], tenants: ["*"], subject: "operator");
        var tenant = "oidc-" + Guid.NewGuid().ToString("N")[..8];
        await (await fx.Send(HttpMethod.Post, Api.Entities, Bearer(writer), Thing(Api.NewId()), tenant: tenant)).ShouldBeRefusedAsync(HttpStatusCode.Forbidden, AccessAssertions.Forbidden);
        await (await fx.Send(HttpMethod.Post, Api.Entities, Bearer(admin), Thing(Api.NewId()), tenant: tenant)).ShouldBeAsync(HttpStatusCode.Created);
        await (await fx.Send(HttpMethod.Delete, Api.Entities + "?type=Thing", Bearer(writer), tenant: tenant)).ShouldBeRefusedAsync(HttpStatusCode.Forbidden, AccessAssertions.Forbidden);
        await (await fx.Send(HttpMethod.Delete, Api.Entities + "?type=Thing", Bearer(admin), tenant: tenant)).ShouldBeAsync(HttpStatusCode.NoContent);
    }
}
