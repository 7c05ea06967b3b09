using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;
using static Kontext.Broker.Tests.Batch.BatchApi;

namespace Kontext.Broker.Tests.Batch;

/// <summary>Batch Entity Creation (5.6.7, 6.14) and the request rules every batch operation shares.</summary>
[Collection(BrokerCollection.Name)]
public sealed class CreateBatchTests(BrokerFixture fixture)
{
    private readonly HttpClient _client = fixture.Client;

    [Theory]
    [InlineData("create")]
    [InlineData("upsert")]
    public async Task A_batch_item_that_fails_after_its_first_attributes_were_parsed_is_an_error_and_the_others_are_written_exactly_as_sent(string operation)
    {
        // The parse moves an item's values into its entity as it goes: the bad item's first attributes are already moved
        // when its last one fails, and the items around it carry the same attributes.
        var (first, bad, last) = (Api.NewId("Sensor"), Api.NewId("Sensor"), Api.NewId("Sensor"));
        const string attributes = """
            "reading":{"type":"Property","value":{"level":[1,2.5,{"deep":"x"}]},"unitCode":"CEL","observedAt":"2026-11-30T10:00:00Z",
                       "accuracy":{"type":"Property","value":0.5}},
            "location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[2.15,41.38]}},
            "owner":{"type":"Relationship","object":"urn:ngsi-ld:Person:1"}
            """;
        string Sent(string id) => Entity(id, "Sensor", attributes);

        var response = await _client.BatchAsync(operation, Array([
            Sent(first),
            Entity(bad, "Sensor", attributes + """ ,"broken":{"type":"Relationship","object":"not a uri"} """),
            Sent(last),
        ]));

        var result = await response.ShouldBeMultiStatusAsync([first, last], (bad, "BadRequestData"));
        result["errors"]![0]!["error"]!["detail"]!.GetValue<string>().Should().Contain("broken");
        (await _client.StatusOfAsync(bad)).Should().Be(HttpStatusCode.NotFound);
        foreach (var id in new[] { first, last })
        {
            var stored = await _client.GetEntityAsync(id);
            JsonNode.DeepEquals(stored, JsonNode.Parse(Sent(id))).Should().BeTrue("{0} was sent as {1} and reads back as {2}", id, Sent(id), stored.ToJsonString());
        }
    }

    [Fact]
    public async Task Batch_create_returns_201_with_the_ids_and_every_entity_reads_back()
    {
        var (a, b) = (Api.NewId("Building"), Api.NewId("Building"));

        var response = await _client.BatchAsync("create", Array([
            Entity(a, attributes: """ "name":{"type":"Property","value":"A"} """),
            Entity(b, attributes: """ "name":"B","locatedAt":{"type":"Relationship","object":"urn:ngsi-ld:City:1"} """),
        ]));

        await response.ShouldBeCreatedIdsAsync(a, b);
        (await _client.GetEntityAsync(a))["name"]!["value"]!.GetValue<string>().Should().Be("A");
        var second = await _client.GetEntityAsync(b);
        second["name"]!["value"]!.GetValue<string>().Should().Be("B");
        second["locatedAt"]!["object"]!.GetValue<string>().Should().Be("urn:ngsi-ld:City:1");
    }

    [Fact]
    public async Task Batch_create_with_one_invalid_entity_returns_207_with_the_right_ids()
    {
        var (a, b, invalid) = (Api.NewId(), Api.NewId(), Api.NewId());

        var response = await _client.BatchAsync("create", Array([
            Entity(a), $$$$"""{"id":"{{{{invalid}}}}","name":"no type"}""", Entity(b),
        ]));

        await response.ShouldBeMultiStatusAsync([a, b], (invalid, "BadRequestData"));
        (await _client.StatusOfAsync(a)).Should().Be(HttpStatusCode.OK);
        (await _client.StatusOfAsync(b)).Should().Be(HttpStatusCode.OK);
        (await _client.StatusOfAsync(invalid)).Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Batch_create_with_an_existing_entity_reports_AlreadyExists_for_it_only()
    {
        var existing = Api.NewId();
        await _client.CreateOkAsync(Entity(existing, attributes: """ "name":"old" """));
        var fresh = Api.NewId();

        var response = await _client.BatchAsync("create", Array([Entity(fresh), Entity(existing, attributes: """ "name":"new" """)]));

        var body = await response.ShouldBeMultiStatusAsync([fresh], (existing, "AlreadyExists"));
        body["errors"]![0]!["error"]!["status"]!.GetValue<int>().Should().Be(409);
        (await _client.GetEntityAsync(existing))["name"]!["value"]!.GetValue<string>().Should().Be("old");
    }

    [Fact]
    public async Task Batch_create_with_the_same_id_twice_creates_the_first_and_reports_the_second_as_AlreadyExists()
    {
        var (a, b) = (Api.NewId(), Api.NewId());

        var response = await _client.BatchAsync("create", Array([
            Entity(a, attributes: """ "n":1 """), Entity(b), Entity(a, attributes: """ "n":2 """),
        ]));

        await response.ShouldBeMultiStatusAsync([a, b], (a, "AlreadyExists"));
        (await _client.GetEntityAsync(a))["n"]!["value"]!.GetValue<int>().Should().Be(1);
    }

    [Fact]
    public async Task Batch_create_where_every_entity_fails_returns_207_with_no_success()
    {
        var response = await _client.BatchAsync("create", Array([
            """{"type":"T"}""", """{"id":"not a uri","type":"T"}""",
        ]));

        await response.ShouldBeMultiStatusAsync([], (null, "BadRequestData"), ("not a uri", "BadRequestData"));
    }

    [Fact]
    public async Task Batch_create_with_ld_json_uses_each_entitys_own_context()
    {
        var (a, b) = (Api.NewId(), Api.NewId());
        var body = Array([
            $$$$"""{"id":"{{{{a}}}}","type":"Car","speed":80,"@context":[{"speed":"https://example.org/a/speed","Car":"https://example.org/a/Car"},"{{{{CoreContext}}}}"]}""",
            $$$$"""{"id":"{{{{b}}}}","type":"Car","speed":90,"@context":{"speed":"https://example.org/b/speed"}}""",
        ]);

        var response = await _client.BatchAsync("create", body, contentType: "application/ld+json");

        await response.ShouldBeCreatedIdsAsync(a, b);
        var first = await _client.GetEntityAsync(a);
        first["type"]!.GetValue<string>().Should().Be("https://example.org/a/Car");
        first["https://example.org/a/speed"]!["value"]!.GetValue<int>().Should().Be(80);
        var second = await _client.GetEntityAsync(b);
        second["https://example.org/b/speed"]!["value"]!.GetValue<int>().Should().Be(90);
        second.ContainsKey("https://example.org/a/speed").Should().BeFalse();
    }

    [Fact]
    public async Task Batch_create_with_ld_json_reports_an_entity_without_its_own_context()
    {
        var (withContext, without) = (Api.NewId(), Api.NewId());

        var response = await _client.BatchAsync("create", Array([
            $$$$"""{"id":"{{{{withContext}}}}","type":"T","@context":"{{{{CoreContext}}}}"}""", Entity(without),
        ]), contentType: "application/ld+json");

        await response.ShouldBeMultiStatusAsync([withContext], (without, "BadRequestData"));
        (await _client.StatusOfAsync(without)).Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Batch_create_with_json_reports_an_entity_that_carries_a_context()
    {
        var (plain, withContext) = (Api.NewId(), Api.NewId());

        var response = await _client.BatchAsync("create", Array([
            Entity(plain), $$$$"""{"id":"{{{{withContext}}}}","type":"T","@context":"{{{{CoreContext}}}}"}""",
        ]));

        await response.ShouldBeMultiStatusAsync([plain], (withContext, "BadRequestData"));
    }

    [Fact]
    public async Task Batch_create_with_json_expands_every_entity_with_the_Link_header_context()
    {
        await using var server = await ContextServer.StartAsync();
        var url = server.Serve("/batch.jsonld", """{"@context":{"speed":"https://example.org/link/speed"}}""");
        var (a, b) = (Api.NewId(), Api.NewId());

        var response = await _client.BatchAsync("create", Array([Entity(a, attributes: """ "speed":1 """), Entity(b, attributes: """ "speed":2 """)]),
            link: Api.Link(url));

        await response.ShouldBeCreatedIdsAsync(a, b);
        (await _client.GetEntityAsync(b))["https://example.org/link/speed"]!["value"]!.GetValue<int>().Should().Be(2);
        (await _client.GetEntityAsync(a, link: Api.Link(url)))["speed"]!["value"]!.GetValue<int>().Should().Be(1);
        server.Hits("/batch.jsonld").Should().Be(1);
    }

    [Fact]
    public async Task Batch_create_with_ld_json_and_a_Link_header_is_400_BadRequestData()
    {
        var id = Api.NewId();
        var response = await _client.BatchAsync("create", Array([$$$$"""{"id":"{{{{id}}}}","type":"T","@context":"{{{{CoreContext}}}}"}"""]),
            contentType: "application/ld+json", link: Api.Link(CoreContext));

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
        (await _client.StatusOfAsync(id)).Should().Be(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("create")]
    [InlineData("upsert")]
    [InlineData("update")]
    [InlineData("delete")]
    [InlineData("merge")]
    public async Task Batch_with_invalid_json_is_400_InvalidRequest(string operation)
    {
        var response = await _client.BatchAsync(operation, """[{"id":"urn:ngsi-ld:T:1","type":"T",]""");
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "InvalidRequest");
    }

    [Theory]
    [InlineData("create", "[]")]
    [InlineData("upsert", "[]")]
    [InlineData("update", "[]")]
    [InlineData("delete", "[]")]
    [InlineData("merge", "[]")]
    [InlineData("create", """{"id":"urn:ngsi-ld:T:1","type":"T"}""")]
    [InlineData("delete", "\"urn:ngsi-ld:T:1\"")]
    [InlineData("create", """["urn:ngsi-ld:T:1"]""")]
    [InlineData("delete", """[{"id":"urn:ngsi-ld:T:1"}]""")]
    [InlineData("merge", """[{"id":"urn:ngsi-ld:T:1","type":"T"}, null]""")]
    public async Task Batch_that_is_empty_not_an_array_or_has_an_item_of_the_wrong_kind_is_400_BadRequestData(string operation, string body)
    {
        var response = await _client.BatchAsync(operation, body);
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task Batch_create_with_a_null_item_is_400_and_creates_nothing()
    {
        var id = Api.NewId();
        var response = await _client.BatchAsync("create", $"[{Entity(id)}, null]");

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
        (await _client.StatusOfAsync(id)).Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Batch_create_with_another_content_type_is_415()
    {
        var response = await _client.BatchAsync("create", Array([Entity(Api.NewId())]), contentType: "text/plain");
        await response.ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType, "UnsupportedMediaType");
    }

    [Fact]
    public async Task Batch_create_in_a_new_tenant_creates_it_and_the_entities_live_only_there()
    {
        var tenant = "batch-" + Guid.NewGuid().ToString("N")[..8];
        var id = Api.NewId();

        var response = await _client.BatchAsync("create", Array([Entity(id)]), tenant: tenant);

        await response.ShouldBeCreatedIdsAsync(id);
        response.Headers.GetValues("NGSILD-Tenant").Should().Equal(tenant);
        (await _client.StatusOfAsync(id, tenant)).Should().Be(HttpStatusCode.OK);
        (await _client.StatusOfAsync(id)).Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Batch_create_with_only_invalid_entities_does_not_create_the_tenant()
    {
        var tenant = "batch-" + Guid.NewGuid().ToString("N")[..8];

        var response = await _client.BatchAsync("create", Array(["""{"type":"T"}"""]), tenant: tenant);
        await response.ShouldBeMultiStatusAsync([], (null, "BadRequestData"));

        var update = await _client.BatchAsync("update", Array([Entity(Api.NewId())]), tenant: tenant);
        await update.ShouldBeProblemAsync(HttpStatusCode.NotFound, "NonexistentTenant");
    }
}
