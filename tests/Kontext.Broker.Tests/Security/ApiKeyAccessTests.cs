using System.Net;
using Kontext.Broker.Tests.Infrastructure;
using static Kontext.Broker.Tests.Security.AuthFixture;

namespace Kontext.Broker.Tests.Security;

/// <summary>API keys (Kontext:Auth:ApiKeys): both header forms, unknown keys, roles and tenants.</summary>
[Collection(AuthCollection.Name)]
public sealed class ApiKeyAccessTests(AuthFixture fx)
{
    private static string Thing(string? id = null) => $$$"""{"id": "{{{id ?? Api.NewId()}}}", "type": "Thing", "level": {"type": "Property", "value": 1}}""";

    [Fact]
    public async Task Anonymous_query_returns_401_with_a_challenge_when_auth_is_on()
    {
        var response = await fx.Send(HttpMethod.Get, Api.Entities + "?type=Thing", Anonymous, tenant: City);
        await response.ShouldBeRefusedAsync(HttpStatusCode.Unauthorized, AccessAssertions.Unauthorized);
        string.Join(", ", response.Headers.WwwAuthenticate.Select(h => h.Scheme)).Should().Contain("Bearer").And.Contain("ApiKey");
    }

    [Fact]
    public async Task Health_probe_stays_anonymous()
    {
        (await fx.Send(HttpMethod.Get, "/health", Anonymous)).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Api_key_in_the_Authorization_header_reads()
    {
        await (await fx.Send(HttpMethod.Get, Api.Entities + "?type=Thing", ApiKey(Reader), tenant: City)).ShouldBeAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Api_key_in_the_X_Api_Key_header_reads()
    {
        await (await fx.Send(HttpMethod.Get, Api.Entities + "?type=Thing", XApiKey(Reader), tenant: City)).ShouldBeAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Unknown_api_key_returns_401()
    {
        var response = await fx.Send(HttpMethod.Get, Api.Entities + "?type=Thing", XApiKey("not-a-key-of-this-broker"), tenant: City);
        await response.ShouldBeRefusedAsync(HttpStatusCode.Unauthorized, AccessAssertions.Unauthorized);
    }

    [Fact]
    public async Task Read_only_key_creating_an_entity_returns_403()
    {
        var response = await fx.Send(HttpMethod.Post, Api.Entities, ApiKey(Reader), Thing(), tenant: City);
        await response.ShouldBeRefusedAsync(HttpStatusCode.Forbidden, AccessAssertions.Forbidden);
    }

    [Fact]
    public async Task Key_reading_a_tenant_outside_its_list_returns_403()
    {
        var response = await fx.Send(HttpMethod.Get, Api.Entities + "?type=Thing", ApiKey(Reader), tenant: "elsewhere");
        await response.ShouldBeRefusedAsync(HttpStatusCode.Forbidden, AccessAssertions.Forbidden);
    }

    [Fact]
    public async Task Default_tenant_is_named_urn_ngsi_ld_tenant_default_in_a_key_list()
    {
        await (await fx.Send(HttpMethod.Get, Api.Entities + "?type=Thing", ApiKey(Reader))).ShouldBeAsync(HttpStatusCode.OK);
        await (await fx.Send(HttpMethod.Get, Api.Entities + "?type=Thing", ApiKey(CityAdmin))).ShouldBeRefusedAsync(HttpStatusCode.Forbidden, AccessAssertions.Forbidden);
    }

    [Fact]
    public async Task Write_only_key_writes_but_cannot_read()
    {
        var id = Api.NewId();
        await (await fx.Send(HttpMethod.Post, Api.Entities, ApiKey(Sensor), $$"""{"id": "{{id}}", "type": "Thing"}""", tenant: City)).ShouldBeAsync(HttpStatusCode.Created);
        await (await fx.Send(HttpMethod.Get, $"{Api.Entities}/{id}", ApiKey(Sensor), tenant: City)).ShouldBeRefusedAsync(HttpStatusCode.Forbidden, AccessAssertions.Forbidden);
        await (await fx.Send(HttpMethod.Get, $"{Api.Entities}/{id}", ApiKey(Reader), tenant: City)).ShouldBeAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Writer_updates_entities_batches_and_temporal_history()
    {
        var id = Api.NewId();
        await (await fx.Send(HttpMethod.Post, Api.Entities, ApiKey(Writer), Thing(id), tenant: City)).ShouldBeAsync(HttpStatusCode.Created);
        await (await fx.Send(HttpMethod.Patch, $"{Api.Entities}/{id}/attrs", ApiKey(Writer), """{"level": {"type": "Property", "value": 2}}""", tenant: City))
            .ShouldBeAsync(HttpStatusCode.NoContent);
        await (await fx.Send(HttpMethod.Post, "/ngsi-ld/v1/entityOperations/upsert", ApiKey(Writer), $"[{Thing()}]", tenant: City)).ShouldBeAsync(HttpStatusCode.Created);
        await (await fx.Send(HttpMethod.Get, $"/ngsi-ld/v1/temporal/entities/{id}", ApiKey(Reader), tenant: City)).ShouldBeAsync(HttpStatusCode.OK);
        await (await fx.Send(HttpMethod.Post, $"/ngsi-ld/v1/temporal/entities/{id}/attrs", ApiKey(Reader),
            """{"level": [{"type": "Property", "value": 3, "observedAt": "2026-01-01T00:00:00Z"}]}""", tenant: City)).ShouldBeRefusedAsync(HttpStatusCode.Forbidden, AccessAssertions.Forbidden);
        await (await fx.Send(HttpMethod.Post, $"/ngsi-ld/v1/temporal/entities/{id}/attrs", ApiKey(Writer),
            """{"level": [{"type": "Property", "value": 3, "observedAt": "2026-01-01T00:00:00Z"}]}""", tenant: City)).ShouldBeAsync(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task Listing_subscriptions_needs_read_and_creating_one_needs_write()
    {
        var subscription = """{"id": "SUBSCRIPTION", "type": "Subscription", "entities": [{"type": "Thing"}], "notification": {"endpoint": {"uri": "http://127.0.0.1:9/none"}}}"""
            .Replace("SUBSCRIPTION", Api.NewId("Subscription"));
        await (await fx.Send(HttpMethod.Get, "/ngsi-ld/v1/subscriptions", ApiKey(Reader), tenant: City)).ShouldBeAsync(HttpStatusCode.OK);
        await (await fx.Send(HttpMethod.Get, "/ngsi-ld/v1/subscriptions", ApiKey(Sensor), tenant: City)).ShouldBeRefusedAsync(HttpStatusCode.Forbidden, AccessAssertions.Forbidden);
        await (await fx.Send(HttpMethod.Post, "/ngsi-ld/v1/subscriptions", ApiKey(Reader), subscription, tenant: City)).ShouldBeRefusedAsync(HttpStatusCode.Forbidden, AccessAssertions.Forbidden);
        await (await fx.Send(HttpMethod.Post, "/ngsi-ld/v1/subscriptions", ApiKey(Writer), subscription, tenant: City)).ShouldBeAsync(HttpStatusCode.Created);
    }
}
