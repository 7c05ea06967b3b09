using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Entities;

/// <summary>
/// Projection of entities (clause 4.21: pick, omit, attrs; clause 4.5.5: datasetId) on Retrieve Entity and Query
/// Entities, with the grammar's errors and the "nothing left" rules of clauses 5.7.1.4 and 5.7.2.4.
/// </summary>
public sealed class EntityProjectionTests : IClassFixture<BrokerFixture>, IAsyncLifetime
{
    private readonly HttpClient _client;
    private readonly string _tenant = "projection-" + Guid.NewGuid().ToString("N")[..8];

    public EntityProjectionTests(BrokerFixture fixture) => _client = fixture.Client;

    public async Task InitializeAsync()
    {
        await _client.CreateOkAsync("""
            {"id":"urn:ngsi-ld:Bike:1","type":"Bike","brand":"Orbea","speed":21,
             "label":[{"type":"Property","value":"Bici"},{"type":"Property","value":"Velo","datasetId":"urn:ngsi-ld:Dataset:fr"},{"type":"Property","value":"Rad","datasetId":"urn:ngsi-ld:Dataset:de"}]}
            """, tenant: _tenant);
        await _client.CreateOkAsync("""{"id":"urn:ngsi-ld:Bike:2","type":"Bike","speed":15}""", tenant: _tenant);
        await _client.CreateOkAsync("""{"id":"urn:ngsi-ld:Dock:1","type":"Dock","slots":12}""", tenant: _tenant);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<HttpResponseMessage> GetAsync(string pathAndQuery) => await _client.Send(HttpMethod.Get, pathAndQuery, tenant: _tenant);

    private async Task<JsonNode> OkAsync(string pathAndQuery)
    {
        var response = await GetAsync(pathAndQuery);
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, text);
        return JsonNode.Parse(text)!;
    }

    [Fact]
    public async Task Pick_with_a_pipe_is_pick_with_a_comma()
    {
        var comma = await OkAsync($"{Api.Entities}/urn:ngsi-ld:Bike:1?pick=brand,speed");
        var pipe = await OkAsync($"{Api.Entities}/urn:ngsi-ld:Bike:1?pick=brand|speed");

        JsonNode.DeepEquals(comma, pipe).Should().BeTrue();
        comma.AsObject().Select(p => p.Key).Should().BeEquivalentTo("brand", "speed");
    }

    [Theory]
    [InlineData("pick=brand,,speed")]
    [InlineData("pick=brand||speed")]
    [InlineData("pick=brand;speed")]
    [InlineData("pick=id,brand{name")]
    [InlineData("pick=id,brand{{name}")]
    [InlineData("pick=id,brand{,name}")]
    [InlineData("pick=id,brand{}")]
    [InlineData("pick=brand&attrs=speed")]
    [InlineData("omit=brand&attrs=speed")]
    [InlineData("pick=brand&omit=speed")]
    public async Task A_malformed_or_conflicting_projection_is_400(string query)
    {
        var response = await GetAsync($"{Api.Entities}/urn:ngsi-ld:Bike:1?{query}");
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Theory]
    [InlineData("pick=unknownThing")]
    [InlineData("omit=id,type,brand,speed,label")]
    [InlineData("attrs=unknownThing")]
    public async Task Retrieve_of_which_nothing_is_left_is_404(string query)
    {
        var response = await GetAsync($"{Api.Entities}/urn:ngsi-ld:Bike:1?{query}");
        await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
    }

    [Fact]
    public async Task Query_leaves_out_the_entities_pick_leaves_nothing_of()
    {
        var list = (await OkAsync($"{Api.Entities}?type=Bike,Dock&pick=brand")).AsArray();

        list.Should().ContainSingle();
        list[0]!["brand"]!["value"]!.GetValue<string>().Should().Be("Orbea");
    }

    [Fact]
    public async Task Post_query_takes_pick_and_omit_from_the_body()
    {
        var picked = await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/entityOperations/query",
            """{"type":"Query","entities":[{"type":"Bike"}],"pick":["id","speed"]}""", tenant: _tenant);
        var omitted = await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/entityOperations/query",
            """{"type":"Query","entities":[{"type":"Bike"}],"omit":["speed","label"]}""", tenant: _tenant);

        JsonNode.Parse(await picked.Content.ReadAsStringAsync())!.AsArray()
            .Should().OnlyContain(e => e!.AsObject().Select(p => p.Key).SequenceEqual(new[] { "id", "speed" }));
        var kept = JsonNode.Parse(await omitted.Content.ReadAsStringAsync())!.AsArray();
        kept.Should().OnlyContain(e => !e!.AsObject().ContainsKey("speed") && e.AsObject().ContainsKey("type"));
    }

    [Theory]
    [InlineData("datasetId=urn:ngsi-ld:Dataset:fr", "Velo")]
    [InlineData("datasetId=%40none", "Bici")]
    [InlineData("datasetId=urn:ngsi-ld:Dataset:fr,urn:ngsi-ld:Dataset:de", "Velo,Rad")]
    [InlineData("datasetId=urn:ngsi-ld:Dataset:it", "")]
    public async Task DatasetId_keeps_the_instances_of_those_datasets(string query, string expected)
    {
        var bike = (await OkAsync($"{Api.Entities}?type=Bike&attrs=label&{query}"))[0]!;

        var values = bike["label"] switch
        {
            null => [],
            JsonArray many => many.Select(i => i!["value"]!.GetValue<string>()).ToArray(),
            var one => new[] { one["value"]!.GetValue<string>() },
        };
        values.Should().Equal(expected.Length == 0 ? [] : expected.Split(','));
        bike["id"]!.GetValue<string>().Should().Be("urn:ngsi-ld:Bike:1", "the entity stays even when no instance is left");
    }

    [Fact]
    public async Task Simplified_multi_attribute_is_a_dataset_map()
    {
        var bike = await OkAsync($"{Api.Entities}/urn:ngsi-ld:Bike:1?options=keyValues&attrs=label");

        JsonNode.DeepEquals(bike["label"], JsonNode.Parse("""{"dataset":{"@none":"Bici","urn:ngsi-ld:Dataset:fr":"Velo","urn:ngsi-ld:Dataset:de":"Rad"}}"""))
            .Should().BeTrue(bike["label"]!.ToJsonString());
    }
}
