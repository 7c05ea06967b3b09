using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;
using static Kontext.Broker.Tests.Batch.BatchApi;

namespace Kontext.Broker.Tests.Batch;

/// <summary>Batch Entity Update (5.6.9, 6.16): append semantics per entity; conformance tests 005_01–005_05.</summary>
[Collection(BrokerCollection.Name)]
public sealed class UpdateBatchTests(BrokerFixture fixture)
{
    private readonly HttpClient _client = fixture.Client;

    [Theory]
    [InlineData("update")]
    [InlineData("merge")]
    public async Task A_fragment_that_fails_after_its_first_attributes_were_parsed_is_an_error_and_the_others_are_applied_exactly_as_sent(string operation)
    {
        // As for create and upsert: the parse moves the bad item's first attributes before its last one fails.
        var (first, bad, last) = (Api.NewId("Sensor"), Api.NewId("Sensor"), Api.NewId("Sensor"));
        await _client.BatchOkAsync("create", Array([Entity(first, "Sensor"), Entity(bad, "Sensor"), Entity(last, "Sensor")]));
        const string attributes = """
            "reading":{"type":"Property","value":{"level":[1,2.5,{"deep":"x"}]},"unitCode":"CEL","observedAt":"2026-11-30T10:00:00Z",
                       "accuracy":{"type":"Property","value":0.5}},
            "owner":{"type":"Relationship","object":"urn:ngsi-ld:Person:1"}
            """;

        var response = await _client.BatchAsync(operation, Array([
            Entity(first, "Sensor", attributes),
            Entity(bad, "Sensor", attributes + """ ,"broken":{"type":"Relationship","object":"not a uri"} """),
            Entity(last, "Sensor", attributes),
        ]));

        await response.ShouldBeMultiStatusAsync([first, last], (bad, "BadRequestData"));
        (await _client.GetEntityAsync(bad)).ContainsKey("reading").Should().BeFalse("nothing of a failed item is written");
        foreach (var id in new[] { first, last })
        {
            var stored = await _client.GetEntityAsync(id);
            JsonNode.DeepEquals(stored, JsonNode.Parse(Entity(id, "Sensor", attributes))).Should().BeTrue("{0} reads back as {1}", id, stored.ToJsonString());
        }
    }

    private async Task<string> CreateAsync()
    {
        var id = Api.NewId();
        await _client.CreateOkAsync(Entity(id, attributes: """ "name":"old","height":{"type":"Property","value":10,"unitCode":"MTR"} """));
        return id;
    }

    [Fact]
    public async Task Batch_update_returns_204_overwrites_and_adds_attributes_and_keeps_the_rest()
    {
        var (a, b) = (await CreateAsync(), await CreateAsync());

        var response = await _client.BatchAsync("update", Array([
            Entity(a, "Tower", """ "height":20 """), Entity(b, attributes: """ "name":"new","floors":3 """),
        ]));

        await response.ShouldBeNoContentAsync();
        var first = await _client.GetEntityAsync(a);
        first["type"]!.AsArray().Select(t => t!.GetValue<string>()).Should().BeEquivalentTo("Building", "Tower");
        first["height"]!.ToJsonString().Should().Be("""{"type":"Property","value":20}""");
        first["name"]!["value"]!.GetValue<string>().Should().Be("old");
        var second = await _client.GetEntityAsync(b);
        second["name"]!["value"]!.GetValue<string>().Should().Be("new");
        second["floors"]!["value"]!.GetValue<int>().Should().Be(3);
    }

    [Fact]
    public async Task Batch_update_of_an_unknown_entity_returns_207_with_ResourceNotFound_and_updates_the_others()
    {
        var (a, unknown) = (await CreateAsync(), Api.NewId());

        var response = await _client.BatchAsync("update", Array([Entity(a, attributes: """ "name":"new" """), Entity(unknown, attributes: """ "name":"x" """)]));

        await response.ShouldBeMultiStatusAsync([a], (unknown, "ResourceNotFound"));
        (await _client.GetEntityAsync(a))["name"]!["value"]!.GetValue<string>().Should().Be("new");
        (await _client.StatusOfAsync(unknown)).Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Batch_update_with_noOverwrite_adding_only_new_attributes_returns_204()
    {
        var a = await CreateAsync();

        var response = await _client.BatchAsync("update", Array([Entity(a, attributes: """ "floors":3 """)]), "?options=noOverwrite");

        await response.ShouldBeNoContentAsync();
        (await _client.GetEntityAsync(a))["floors"]!["value"]!.GetValue<int>().Should().Be(3);
    }

    [Fact]
    public async Task Batch_update_with_noOverwrite_keeps_existing_attributes_and_reports_the_entity_in_a_207()
    {
        var (a, b) = (await CreateAsync(), await CreateAsync());

        var response = await _client.BatchAsync("update", Array([
            Entity(a, attributes: """ "name":"new","floors":3 """), Entity(b, attributes: """ "floors":4 """),
        ]), "?options=noOverwrite");

        var body = await response.ShouldBeMultiStatusAsync([b], (a, "AlreadyExists"));
        body["errors"]![0]!["error"]!["detail"]!.GetValue<string>().Should().Contain("name");
        var first = await _client.GetEntityAsync(a);
        first["name"]!["value"]!.GetValue<string>().Should().Be("old");
        first["floors"]!["value"]!.GetValue<int>().Should().Be(3);
    }

    [Fact]
    public async Task Batch_update_with_an_invalid_fragment_reports_BadRequestData_for_that_entity()
    {
        var (a, b) = (await CreateAsync(), await CreateAsync());

        var response = await _client.BatchAsync("update", Array([
            Entity(a, attributes: """ "name":{"type":"Property","value":null} """), Entity(b, attributes: """ "name":"ok" """), """{"type":"T","name":"no id"}""",
        ]));

        await response.ShouldBeMultiStatusAsync([b], (a, "BadRequestData"), (null, "BadRequestData"));
        (await _client.GetEntityAsync(a))["name"]!["value"]!.GetValue<string>().Should().Be("old");
    }

    [Fact]
    public async Task Batch_update_with_ld_json_expands_each_fragment_with_its_own_context()
    {
        var a = await CreateAsync();

        var response = await _client.BatchAsync("update", Array([
            $$$$"""{"id":"{{{{a}}}}","name":"plain","label":"L","@context":[{"label":"https://example.org/x/label"},"{{{{CoreContext}}}}"]}""",
        ]), contentType: "application/ld+json");

        await response.ShouldBeNoContentAsync();
        var entity = await _client.GetEntityAsync(a);
        entity["https://example.org/x/label"]!["value"]!.GetValue<string>().Should().Be("L");
        entity["name"]!["value"]!.GetValue<string>().Should().Be("plain");
    }

    [Theory]
    [InlineData("update")]
    [InlineData("merge")]
    public async Task Batch_in_a_nonexistent_tenant_is_404_NonexistentTenant(string operation)
    {
        var response = await _client.BatchAsync(operation, Array([Entity(Api.NewId())]), tenant: "none-" + Guid.NewGuid().ToString("N")[..8]);
        await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "NonexistentTenant");
    }

    [Fact]
    public async Task Concurrent_batch_updates_of_the_same_entities_lose_no_attribute()
    {
        var ids = Enumerable.Range(0, 50).Select(_ => Api.NewId("Counter")).ToList();
        await _client.BatchOkAsync("create", Array(ids.Select(id => Entity(id, "Counter"))));

        // Eight batches, each appending its own attribute to all fifty entities, all in flight at once.
        var batches = Enumerable.Range(0, 8).Select(k =>
            _client.BatchAsync("update", Array(ids.Select(id => Entity(id, "Counter", $$$$""" "a{{{{k}}}}":{{{{k}}}} """)))));
        var responses = await Task.WhenAll(batches);

        foreach (var response in responses) await response.ShouldBeNoContentAsync();
        foreach (var id in ids)
        {
            var entity = await _client.GetEntityAsync(id);
            for (var k = 0; k < 8; k++) entity[$"a{k}"]?["value"]?.GetValue<int>().Should().Be(k, "entity {0} must keep a{1}", id, k);
            entity.Count(p => p.Key.StartsWith('a')).Should().Be(8);
        }
    }
}
