using System.Net;
using Kontext.Broker.Tests.Infrastructure;
using static Kontext.Broker.Tests.Batch.BatchApi;

namespace Kontext.Broker.Tests.Batch;

/// <summary>Batch Entity Delete (5.6.10, 6.17; suite 006_01–006_04) and Batch Entity Merge (5.6.20; suite 057, 5620).</summary>
[Collection(BrokerCollection.Name)]
public sealed class DeleteMergeBatchTests(BrokerFixture fixture)
{
    private readonly HttpClient _client = fixture.Client;

    private async Task<string> CreateAsync(string attributes = """ "name":"old","airQualityLevel":{"type":"Property","value":"good","unitCode":"X"} """)
    {
        var id = Api.NewId();
        await _client.CreateOkAsync(Entity(id, attributes: attributes));
        return id;
    }

    [Fact]
    public async Task Batch_delete_returns_204_and_the_entities_are_gone()
    {
        var (a, b) = (await CreateAsync(), await CreateAsync());

        var response = await _client.BatchAsync("delete", Ids(a, b));

        await response.ShouldBeNoContentAsync();
        (await _client.StatusOfAsync(a)).Should().Be(HttpStatusCode.NotFound);
        (await _client.StatusOfAsync(b)).Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Batch_delete_with_an_unknown_id_returns_207_with_ResourceNotFound_and_deletes_the_others()
    {
        var (a, unknown) = (await CreateAsync(), Api.NewId());

        var response = await _client.BatchAsync("delete", Ids(a, unknown));

        await response.ShouldBeMultiStatusAsync([a], (unknown, "ResourceNotFound"));
        (await _client.StatusOfAsync(a)).Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Batch_delete_of_the_same_id_twice_deletes_it_once_and_reports_the_second()
    {
        var a = await CreateAsync();

        var response = await _client.BatchAsync("delete", Ids(a, a));

        await response.ShouldBeMultiStatusAsync([a], (a, "ResourceNotFound"));
    }

    [Fact]
    public async Task Batch_delete_reports_an_id_that_is_not_a_uri()
    {
        var a = await CreateAsync();

        var response = await _client.BatchAsync("delete", Ids(a, "not a uri"));

        await response.ShouldBeMultiStatusAsync([a], ("not a uri", "BadRequestData"));
    }

    [Fact]
    public async Task Batch_delete_in_another_tenant_finds_nothing_and_in_a_nonexistent_tenant_is_404()
    {
        var tenant = "del-" + Guid.NewGuid().ToString("N")[..8];
        var id = Api.NewId();
        await _client.BatchOkAsync("create", Array([Entity(id)]), tenant: tenant);

        var elsewhere = await _client.BatchAsync("delete", Ids(id));
        var nowhere = await _client.BatchAsync("delete", Ids(id), tenant: "none-" + Guid.NewGuid().ToString("N")[..8]);
        var there = await _client.BatchAsync("delete", Ids(id), tenant: tenant);

        await elsewhere.ShouldBeMultiStatusAsync([], (id, "ResourceNotFound"));
        await nowhere.ShouldBeProblemAsync(HttpStatusCode.NotFound, "NonexistentTenant");
        await there.ShouldBeNoContentAsync();
        there.Headers.GetValues("NGSILD-Tenant").Should().Equal(tenant);
    }

    [Fact]
    public async Task Batch_merge_returns_204_merges_sub_members_and_deletes_with_ngsi_ld_null()
    {
        var (a, b) = (await CreateAsync(), await CreateAsync());

        var response = await _client.BatchAsync("merge", Array([
            Entity(a, attributes: """ "airQualityLevel":{"value":"bad"} """),
            $$$$"""{"id":"{{{{b}}}}","name":"urn:ngsi-ld:null","added":1}""",
        ]));

        await response.ShouldBeNoContentAsync();
        var first = await _client.GetEntityAsync(a);
        first["airQualityLevel"]!["value"]!.GetValue<string>().Should().Be("bad");
        first["airQualityLevel"]!["unitCode"]!.GetValue<string>().Should().Be("X");
        var second = await _client.GetEntityAsync(b);
        second.ContainsKey("name").Should().BeFalse();
        second["added"]!["value"]!.GetValue<int>().Should().Be(1);
        second["airQualityLevel"]!["value"]!.GetValue<string>().Should().Be("good");
    }

    [Fact]
    public async Task Batch_merge_of_an_unknown_entity_returns_207_and_merges_the_others()
    {
        var (a, unknown) = (await CreateAsync(), Api.NewId());

        var response = await _client.BatchAsync("merge", Array([Entity(unknown, attributes: """ "name":"x" """), Entity(a, attributes: """ "name":"new" """)]));

        await response.ShouldBeMultiStatusAsync([a], (unknown, "ResourceNotFound"));
        (await _client.GetEntityAsync(a))["name"]!["value"]!.GetValue<string>().Should().Be("new");
        (await _client.StatusOfAsync(unknown)).Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Batch_merge_with_ld_json_uses_each_entitys_context_and_reports_invalid_json_ld()
    {
        var (a, b) = (await CreateAsync(), await CreateAsync());

        var response = await _client.BatchAsync("merge", Array([
            $$$$"""{"id":"{{{{a}}}}","type":"Building","mood":"calm","@context":[{"mood":"https://example.org/m/mood"},"{{{{CoreContext}}}}"]}""",
            $$$$"""{"id":"{{{{b}}}}","type":"Building","name":{"type":"Property","value":null},"@context":"{{{{CoreContext}}}}"}""",
        ]), contentType: "application/ld+json");

        await response.ShouldBeMultiStatusAsync([a], (b, "BadRequestData"));
        (await _client.GetEntityAsync(a))["https://example.org/m/mood"]!["value"]!.GetValue<string>().Should().Be("calm");
        (await _client.GetEntityAsync(b))["name"]!["value"]!.GetValue<string>().Should().Be("old");
    }
}
