using System.Net;
using Kontext.Broker.Tests.Infrastructure;
using static Kontext.Broker.Tests.Batch.BatchApi;

namespace Kontext.Broker.Tests.Batch;

/// <summary>Batch Entity Upsert (5.6.8, 6.15); status codes as in conformance tests 004_01–004_08.</summary>
[Collection(BrokerCollection.Name)]
public sealed class UpsertBatchTests(BrokerFixture fixture)
{
    private readonly HttpClient _client = fixture.Client;

    [Fact]
    public async Task Batch_upsert_of_new_entities_returns_201_with_their_ids()
    {
        var (a, b) = (Api.NewId(), Api.NewId());

        var response = await _client.BatchAsync("upsert", Array([Entity(a), Entity(b, attributes: """ "name":"B" """)]));

        await response.ShouldBeCreatedIdsAsync(a, b);
        (await _client.GetEntityAsync(b))["name"]!["value"]!.GetValue<string>().Should().Be("B");
    }

    [Fact]
    public async Task Batch_upsert_of_new_and_existing_entities_returns_201_with_only_the_created_ids_and_replaces_the_existing()
    {
        var existing = Api.NewId();
        await _client.CreateOkAsync(Entity(existing, attributes: """ "old":1,"kept":{"type":"Property","value":"x"} """));
        var before = await _client.GetEntityAsync(existing, "?options=sysAttrs");
        var fresh = Api.NewId();

        var response = await _client.BatchAsync("upsert", Array([Entity(fresh), Entity(existing, "Shop", """ "kept":"y","added":true """)]));

        await response.ShouldBeCreatedIdsAsync(fresh);
        var after = await _client.GetEntityAsync(existing, "?options=sysAttrs");
        after["type"]!.GetValue<string>().Should().Be("Shop");
        after.ContainsKey("old").Should().BeFalse();
        after["kept"]!["value"]!.GetValue<string>().Should().Be("y");
        after["added"]!["value"]!.GetValue<bool>().Should().BeTrue();
        after["createdAt"]!.GetValue<string>().Should().Be(before["createdAt"]!.GetValue<string>());
    }

    [Fact]
    public async Task Batch_upsert_of_existing_entities_only_returns_204()
    {
        var (a, b) = (Api.NewId(), Api.NewId());
        await _client.BatchOkAsync("create", Array([Entity(a), Entity(b)]));

        var response = await _client.BatchAsync("upsert", Array([Entity(a, attributes: """ "n":1 """), Entity(b, attributes: """ "n":2 """)]));

        await response.ShouldBeNoContentAsync();
        (await _client.GetEntityAsync(b))["n"]!["value"]!.GetValue<int>().Should().Be(2);
    }

    [Fact]
    public async Task Batch_upsert_with_options_update_appends_to_existing_entities_and_keeps_their_other_attributes()
    {
        var existing = Api.NewId();
        await _client.CreateOkAsync(Entity(existing, attributes: """ "old":1,"changed":{"type":"Property","value":1,"unitCode":"CEL"} """));
        var fresh = Api.NewId();

        var response = await _client.BatchAsync("upsert", Array([Entity(fresh), Entity(existing, "Extra", """ "changed":2,"added":3 """)]), "?options=update");

        await response.ShouldBeCreatedIdsAsync(fresh);
        var after = await _client.GetEntityAsync(existing);
        after["type"]!.AsArray().Select(t => t!.GetValue<string>()).Should().BeEquivalentTo("Building", "Extra");
        after["old"]!["value"]!.GetValue<int>().Should().Be(1);
        after["changed"]!["value"]!.GetValue<int>().Should().Be(2);
        after["changed"]!.AsObject().ContainsKey("unitCode").Should().BeFalse("an appended attribute replaces the old one whole");
        after["added"]!["value"]!.GetValue<int>().Should().Be(3);
    }

    [Fact]
    public async Task Batch_upsert_with_one_invalid_entity_returns_207_and_upserts_the_others()
    {
        var (a, b, invalid) = (Api.NewId(), Api.NewId(), Api.NewId());
        await _client.CreateOkAsync(Entity(b));

        var response = await _client.BatchAsync("upsert", Array([
            Entity(a), Entity(b, attributes: """ "n":5 """), $$$$"""{"id":"{{{{invalid}}}}","type":"T","name":{"type":"Property","value":null}}""",
        ]));

        await response.ShouldBeMultiStatusAsync([a, b], (invalid, "BadRequestData"));
        (await _client.GetEntityAsync(b))["n"]!["value"]!.GetValue<int>().Should().Be(5);
        (await _client.StatusOfAsync(invalid)).Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Batch_upsert_with_the_same_id_twice_applies_both_in_order_so_the_last_wins()
    {
        var (a, b) = (Api.NewId(), Api.NewId());

        var response = await _client.BatchAsync("upsert", Array([
            Entity(a, "Vehicle", """ "speed":1,"old":true """), Entity(b), Entity(a, "Vehicle", """ "speed":2 """),
        ]));

        await response.ShouldBeCreatedIdsAsync(a, b);
        var entity = await _client.GetEntityAsync(a);
        entity["speed"]!["value"]!.GetValue<int>().Should().Be(2);
        entity.ContainsKey("old").Should().BeFalse();
    }

    [Fact]
    public async Task Batch_upsert_with_ld_json_uses_each_entitys_own_context()
    {
        var (a, b) = (Api.NewId(), Api.NewId());
        await _client.CreateOkAsync(Entity(b, attributes: """ "gone":1 """));

        var response = await _client.BatchAsync("upsert", Array([
            $$$$"""{"id":"{{{{a}}}}","type":"T","level":1,"@context":{"level":"https://example.org/one/level"}}""",
            $$$$"""{"id":"{{{{b}}}}","type":"T","level":2,"@context":[{"level":"https://example.org/two/level"},"{{{{CoreContext}}}}"]}""",
        ]), contentType: "application/ld+json");

        await response.ShouldBeCreatedIdsAsync(a);
        (await _client.GetEntityAsync(a))["https://example.org/one/level"]!["value"]!.GetValue<int>().Should().Be(1);
        var replaced = await _client.GetEntityAsync(b);
        replaced["https://example.org/two/level"]!["value"]!.GetValue<int>().Should().Be(2);
        replaced.ContainsKey("gone").Should().BeFalse();
    }

    [Fact]
    public async Task Batch_upsert_with_an_unknown_option_is_400_InvalidRequest()
    {
        var response = await _client.BatchAsync("upsert", Array([Entity(Api.NewId())]), "?options=merge");
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "InvalidRequest");
    }

    [Theory]
    [InlineData("?options=replace,update")]
    public async Task Batch_upsert_with_a_contradictory_option_is_400(string query)
    {
        var response = await _client.BatchAsync("upsert", Array([Entity(Api.NewId())]), query);
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task Batch_upsert_of_1000_entities_succeeds_and_every_entity_reads_back()
    {
        var tenant = "bulk-" + Guid.NewGuid().ToString("N")[..8];
        var ids = Enumerable.Range(0, 1000).Select(i => $"urn:ngsi-ld:Meter:{tenant}-{i:D4}").ToList();

        var response = await _client.BatchAsync("upsert",
            Array(ids.Select((id, i) => Entity(id, "Meter", $$$$""" "reading":{"type":"Property","value":{{{{i}}}},"unitCode":"KWH"} """))),
            tenant: tenant);

        await response.ShouldBeCreatedIdsAsync([.. ids]);
        var reads = await Task.WhenAll(ids.Select(id => _client.GetEntityAsync(id, tenant: tenant)));
        reads.Select(e => e["reading"]!["value"]!.GetValue<int>()).Should().Equal(Enumerable.Range(0, 1000));

        var again = await _client.BatchAsync("upsert",
            Array(ids.Select(id => Entity(id, "Meter", """ "reading":0 """))), tenant: tenant);
        await again.ShouldBeNoContentAsync();
    }
}
