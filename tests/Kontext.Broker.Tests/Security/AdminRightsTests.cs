using System.Net;
using Kontext.Broker.Tests.Infrastructure;
using static Kontext.Broker.Tests.Security.AuthFixture;

namespace Kontext.Broker.Tests.Security;

/// <summary>What needs the admin role: purge, tenant creation, @context changes, the adapter admin endpoints.</summary>
[Collection(AuthCollection.Name)]
public sealed class AdminRightsTests(AuthFixture fx)
{
    [Fact]
    public async Task Purge_entities_needs_the_admin_role()
    {
        await (await fx.Send(HttpMethod.Delete, Api.Entities + "?type=Thing", ApiKey(Writer), tenant: City)).ShouldBeRefusedAsync(HttpStatusCode.Forbidden, AccessAssertions.Forbidden);
        await (await fx.Send(HttpMethod.Delete, Api.Entities + "?type=Nothing", ApiKey(CityAdmin), tenant: City)).ShouldBeAsync(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task First_write_to_an_unknown_tenant_needs_the_admin_role()
    {
        var tenant = "new-" + Guid.NewGuid().ToString("N")[..8];
        string Thing() => $$"""{"id": "{{Api.NewId()}}", "type": "Thing"}""";
        await (await fx.Send(HttpMethod.Post, Api.Entities, ApiKey(Writer), Thing(), tenant: tenant)).ShouldBeRefusedAsync(HttpStatusCode.Forbidden, AccessAssertions.Forbidden);
        await (await fx.Send(HttpMethod.Post, "/ngsi-ld/v1/entityOperations/create", ApiKey(Writer), $"[{Thing()}]", tenant: tenant))
            .ShouldBeRefusedAsync(HttpStatusCode.Forbidden, AccessAssertions.Forbidden);
        await (await fx.Send(HttpMethod.Get, Api.Entities + "?type=Thing", ApiKey(Writer), tenant: tenant)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "NonexistentTenant");
        await (await fx.Send(HttpMethod.Post, Api.Entities, ApiKey(Admin), Thing(), tenant: tenant)).ShouldBeAsync(HttpStatusCode.Created);
        await (await fx.Send(HttpMethod.Post, Api.Entities, ApiKey(Writer), Thing(), tenant: tenant)).ShouldBeAsync(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Adding_or_deleting_a_jsonldContext_needs_admin_over_every_tenant()
    {
        const string body = """{"@context": {"level": "https://example.org/level"}}""";
        await (await fx.Send(HttpMethod.Post, "/ngsi-ld/v1/jsonldContexts", ApiKey(Writer), body)).ShouldBeRefusedAsync(HttpStatusCode.Forbidden, AccessAssertions.Forbidden);
        await (await fx.Send(HttpMethod.Post, "/ngsi-ld/v1/jsonldContexts", ApiKey(CityAdmin), body, tenant: City)).ShouldBeRefusedAsync(HttpStatusCode.Forbidden, AccessAssertions.Forbidden);
        var added = await fx.Send(HttpMethod.Post, "/ngsi-ld/v1/jsonldContexts", ApiKey(Admin), body);
        await added.ShouldBeAsync(HttpStatusCode.Created);
        var location = added.Headers.Location!.ToString();
        await (await fx.Send(HttpMethod.Delete, location, ApiKey(CityAdmin), tenant: City)).ShouldBeRefusedAsync(HttpStatusCode.Forbidden, AccessAssertions.Forbidden);
        await (await fx.Send(HttpMethod.Delete, location, ApiKey(Admin))).ShouldBeAsync(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task Serving_an_at_context_document_stays_public()
    {
        await (await fx.Send(HttpMethod.Get, "/ngsi-ld/v1/jsonldContexts/ngsi-ld-core-context-v1.8.jsonld", Anonymous)).ShouldBeAsync(HttpStatusCode.OK);
        await (await fx.Send(HttpMethod.Get, "/ngsi-ld/v1/jsonldContexts", Anonymous)).ShouldBeRefusedAsync(HttpStatusCode.Unauthorized, AccessAssertions.Unauthorized);
    }

    [Fact]
    public async Task Adapter_admin_endpoints_answer_an_admin_principal_and_refuse_others()
    {
        await (await fx.Send(HttpMethod.Get, "/adapters/deadletters", ApiKey(CityAdmin), tenant: City)).ShouldBeAsync(HttpStatusCode.OK);
        await (await fx.Send(HttpMethod.Get, "/adapters/deadletters", ApiKey(Writer), tenant: City)).ShouldBeRefusedAsync(HttpStatusCode.Forbidden, AccessAssertions.Forbidden);
        await (await fx.Send(HttpMethod.Get, "/adapters/deadletters", Anonymous, tenant: City)).ShouldBeRefusedAsync(HttpStatusCode.Unauthorized, AccessAssertions.Unauthorized);
        // The mapping catalog is shared by every tenant: a tenant's admin does not reach it.
        await (await fx.Send(HttpMethod.Get, "/adapters/mappings", ApiKey(CityAdmin), tenant: City)).ShouldBeRefusedAsync(HttpStatusCode.Forbidden, AccessAssertions.Forbidden);
        await (await fx.Send(HttpMethod.Get, "/adapters/mappings", ApiKey(Admin))).ShouldBeAsync(HttpStatusCode.OK);
    }
}
