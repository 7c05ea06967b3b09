using System.Net;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Entities;

/// <summary>NGSILD-Tenant (clause 6.3.14, D6): tenants are isolated databases.</summary>
[Collection(BrokerCollection.Name)]
public sealed class TenancyTests(BrokerFixture fixture)
{
    private readonly HttpClient _client = fixture.Client;

    [Fact]
    public async Task Entities_of_one_tenant_are_invisible_to_others()
    {
        var tenant = "city-" + Guid.NewGuid().ToString("N")[..8];
        var id = Api.NewId();
        await _client.CreateOkAsync($$$$"""{"id":"{{{{id}}}}","type":"T"}""", tenant: tenant);

        (await _client.Send(HttpMethod.Get, $"{Api.Entities}/{id}", tenant: tenant)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await _client.Send(HttpMethod.Get, $"{Api.Entities}/{id}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        var other = "other-" + Guid.NewGuid().ToString("N")[..8];
        await _client.CreateOkAsync($$$$"""{"id":"{{{{Api.NewId()}}}}","type":"T"}""", tenant: other);
        (await _client.Send(HttpMethod.Get, $"{Api.Entities}/{id}", tenant: other)).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("DELETE", "", HttpStatusCode.NoContent)]
    [InlineData("GET", "/no-such-entity", HttpStatusCode.NotFound)]
    [InlineData("PATCH", "/attrs", HttpStatusCode.BadRequest)]
    public async Task Every_NGSI_LD_answer_echoes_the_tenant_successes_and_problems_alike(string method, string suffix, HttpStatusCode expected)
    {
        var tenant = "echo-" + Guid.NewGuid().ToString("N")[..8];
        var id = Api.NewId();
        await _client.CreateOkAsync($$$$"""{"id":"{{{{id}}}}","type":"T"}""", tenant: tenant);
        var path = suffix == "/no-such-entity" ? $"{Api.Entities}/{Api.NewId()}" : $"{Api.Entities}/{id}{suffix}";

        var response = await _client.Send(new HttpMethod(method), path, method == "PATCH" ? "[1]" : null, tenant: tenant);

        response.StatusCode.Should().Be(expected);
        response.Headers.GetValues("NGSILD-Tenant").Single().Should().Be(tenant);
    }

    [Fact]
    public async Task The_same_id_may_exist_in_two_tenants()
    {
        var id = Api.NewId();
        var a = "a-" + Guid.NewGuid().ToString("N")[..8];
        var b = "b-" + Guid.NewGuid().ToString("N")[..8];

        await _client.CreateOkAsync($$$$"""{"id":"{{{{id}}}}","type":"T","v":1}""", tenant: a);
        await _client.CreateOkAsync($$$$"""{"id":"{{{{id}}}}","type":"T","v":2}""", tenant: b);

        (await _client.GetEntityAsync(id, tenant: a))["v"]!["value"]!.GetValue<int>().Should().Be(1);
        (await _client.GetEntityAsync(id, tenant: b))["v"]!["value"]!.GetValue<int>().Should().Be(2);
    }

    [Fact]
    public async Task Reading_an_unknown_tenant_is_404_NonexistentTenant()
    {
        var response = await _client.Send(HttpMethod.Get, $"{Api.Entities}/{Api.NewId()}", tenant: "never-" + Guid.NewGuid().ToString("N"));
        await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "NonexistentTenant");
    }

    [Fact]
    public async Task Updating_in_an_unknown_tenant_is_404_NonexistentTenant_and_does_not_create_it()
    {
        var tenant = "never-" + Guid.NewGuid().ToString("N");
        var id = Api.NewId();

        var update = await _client.Send(HttpMethod.Post, $"{Api.Entities}/{id}/attrs", """{"a":1}""", tenant: tenant);
        var read = await _client.Send(HttpMethod.Get, $"{Api.Entities}/{id}", tenant: tenant);

        await update.ShouldBeProblemAsync(HttpStatusCode.NotFound, "NonexistentTenant");
        await read.ShouldBeProblemAsync(HttpStatusCode.NotFound, "NonexistentTenant");
    }

    [Fact]
    public async Task Tenant_names_with_unusual_characters_are_isolated_and_echoed()
    {
        var tenant = "urn:ngsi-ld:tenant:é/" + Guid.NewGuid().ToString("N")[..6];
        var id = Api.NewId();

        var created = await _client.CreateAsync($$$$"""{"id":"{{{{id}}}}","type":"T"}""", tenant: Uri.EscapeDataString(tenant));
        var read = await _client.Send(HttpMethod.Get, $"{Api.Entities}/{id}", tenant: Uri.EscapeDataString(tenant));

        created.StatusCode.Should().Be(HttpStatusCode.Created);
        created.Headers.GetValues("NGSILD-Tenant").Single().Should().Be(Uri.EscapeDataString(tenant));
        read.StatusCode.Should().Be(HttpStatusCode.OK);
    }
}
