using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Entities;

/// <summary>Query Entities (5.7.2): GET /entities and POST /entityOperations/query, in one isolated tenant per class.</summary>
public sealed class QueryEntitiesTests : IClassFixture<BrokerFixture>, IAsyncLifetime
{
    private readonly HttpClient _client;
    private readonly string _tenant = "query-" + Guid.NewGuid().ToString("N")[..8];

    public QueryEntitiesTests(BrokerFixture fixture) => _client = fixture.Client;

    public async Task InitializeAsync()
    {
        // Madrid: Retiro park (inside the polygon below), Sol (outside), a road through both.
        string[] bodies =
        [
            """{"id":"urn:ngsi-ld:Sensor:retiro","type":"AirQualityObserved","no2":{"type":"Property","value":45,"unitCode":"GQ","observedAt":"2024-05-01T10:00:00Z"},"name":"Retiro","status":{"type":"Property","value":"ok","reason":{"type":"Property","value":"calibrated"}},"refDevice":{"type":"Relationship","object":"urn:ngsi-ld:Device:d1"},"location":{"type":"Point","coordinates":[-3.6823,40.4153]},"scope":"/Madrid/Retiro","address":{"type":"Property","value":{"city":"Madrid","street":"Paseo"}}}""",
            """{"id":"urn:ngsi-ld:Sensor:sol","type":"AirQualityObserved","no2":{"type":"Property","value":80,"observedAt":"2024-05-01T11:00:00Z"},"name":"Sol","status":"alert","refDevice":{"type":"Relationship","object":"urn:ngsi-ld:Device:d2"},"location":{"type":"Point","coordinates":[-3.7038,40.4168]},"scope":"/Madrid/Centro","address":{"type":"Property","value":{"city":"Madrid","street":"Mayor"}}}""",
            """{"id":"urn:ngsi-ld:Sensor:bilbao","type":["AirQualityObserved","Pilot"],"no2":[{"type":"Property","value":20},{"type":"Property","value":95,"datasetId":"urn:ngsi-ld:Dataset:raw"}],"name":"Bilbao","location":{"type":"Point","coordinates":[-2.9350,43.2630]},"scope":"/Bilbao"}""",
            """{"id":"urn:ngsi-ld:Road:m30","type":"Road","name":"M30","location":{"type":"LineString","coordinates":[[-3.70,40.41],[-3.67,40.42]]}}""",
            """{"id":"urn:ngsi-ld:Spot:1","type":"ParkingSpot","status":"free","category":{"type":"VocabProperty","vocab":"onStreet"}}""",
        ];
        foreach (var body in bodies) await _client.CreateOkAsync(body, tenant: _tenant);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<List<string>> IdsAsync(string query)
    {
        var response = await _client.Send(HttpMethod.Get, $"{Api.Entities}?{query}", tenant: _tenant);
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, text);
        return JsonNode.Parse(text)!.AsArray().Select(e => e!["id"]!.GetValue<string>().Split(':')[^1]).ToList();
    }

    [Theory]
    [InlineData("type=AirQualityObserved", "retiro,sol,bilbao")]
    [InlineData("type=Road,ParkingSpot", "m30,1")]
    [InlineData("type=Road|ParkingSpot", "m30,1")]
    [InlineData("type=AirQualityObserved;Pilot", "bilbao")]
    [InlineData("type=(AirQualityObserved;Pilot)|Road", "bilbao,m30")]
    [InlineData("id=urn:ngsi-ld:Sensor:sol,urn:ngsi-ld:Road:m30&local=true", "sol,m30")]
    [InlineData("idPattern=^urn:ngsi-ld:Sensor:(r|s).*&local=true", "retiro,sol")]
    [InlineData("type=AirQualityObserved&idPattern=bil", "bilbao")]
    public async Task Type_id_and_idPattern_select_entities(string query, string expected) =>
        (await IdsAsync(query)).Should().Equal(expected.Split(','));

    [Theory]
    [InlineData("q=no2>50", "sol,bilbao")]
    [InlineData("q=no2==79..85", "sol")]
    [InlineData("q=no2>=90;no2<30", "bilbao")]
    [InlineData("q=no2==20,45", "retiro,bilbao")]
    [InlineData("q=no2==40..50", "retiro")]
    [InlineData("q=no2!=45", "sol,bilbao")]
    [InlineData("q=name==\"Sol\"", "sol")]
    [InlineData("q=name==Sol|name==M30", "sol,m30")]
    [InlineData("q=(no2>90|name==M30);location", "bilbao,m30")]
    [InlineData("q=name~=^B", "bilbao")]
    [InlineData("q=name!~=^[BS]", "retiro,m30")]
    [InlineData("q=status.reason==\"calibrated\"", "retiro")]
    [InlineData("q=no2.observedAt>2024-05-01T10:30:00Z", "sol")]
    [InlineData("q=address[street]==\"Mayor\"", "sol")]
    [InlineData("q=refDevice==\"urn:ngsi-ld:Device:d1\"", "retiro")]
    [InlineData("q=category==onStreet&expandValues=category", "1")]
    [InlineData("q=status", "retiro,sol,1")]
    [InlineData("q=!status;!no2", "m30")]
    public async Task Q_language_filters(string query, string expected) =>
        (await IdsAsync(query)).Should().Equal(expected.Split(','));

    [Theory]
    [InlineData("q=no2>")]
    [InlineData("q=(no2>1")]
    [InlineData("q=no2>>3")]
    [InlineData("q=name~=\"(\"")]
    [InlineData("idPattern=(")]
    [InlineData("type=A;;B")]
    public async Task Bad_query_is_400_BadRequestData(string query)
    {
        var response = await _client.Send(HttpMethod.Get, $"{Api.Entities}?{query}", tenant: _tenant);
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task Bad_q_names_the_position()
    {
        var response = await _client.Send(HttpMethod.Get, $"{Api.Entities}?q=no2>10;(name==x", tenant: _tenant);
        (await response.JsonAsync())["detail"]!.GetValue<string>().Should().Contain("position");
    }

    [Theory]
    [InlineData("georel=near;maxDistance==2000&geometry=Point&coordinates=[-3.70,40.416]", "retiro,sol,m30")]
    [InlineData("georel=near;maxDistance==300&geometry=Point&coordinates=[-3.7038,40.4170]", "sol")]
    [InlineData("georel=near;minDistance==100000&geometry=Point&coordinates=[-3.70,40.416]", "bilbao")]
    [InlineData("georel=within&geometry=Polygon&coordinates=[[[-3.6900,40.4080],[-3.6750,40.4080],[-3.6750,40.4210],[-3.6900,40.4210],[-3.6900,40.4080]]]", "retiro")]
    [InlineData("georel=intersects&geometry=Polygon&coordinates=[[[-3.6900,40.4080],[-3.6750,40.4080],[-3.6750,40.4210],[-3.6900,40.4210],[-3.6900,40.4080]]]", "retiro,m30")]
    [InlineData("georel=disjoint&geometry=Polygon&coordinates=[[[-3.6900,40.4080],[-3.6750,40.4080],[-3.6750,40.4210],[-3.6900,40.4210],[-3.6900,40.4080]]]", "sol,bilbao")]
    [InlineData("georel=contains&geometry=LineString&coordinates=[[-3.70,40.41],[-3.67,40.42]]", "m30")]
    [InlineData("georel=equals&geometry=Point&coordinates=[-3.7038,40.4168]", "sol")]
    [InlineData("georel=intersects&geometry=MultiPolygon&coordinates=[[[[-3.0,43.2],[-2.9,43.2],[-2.9,43.3],[-3.0,43.3],[-3.0,43.2]]]]", "bilbao")]
    [InlineData("georel=intersects&geometry=LineString&coordinates=[[-3.69,40.40],[-3.68,40.43]]", "m30")]
    public async Task Geo_queries_on_real_places(string query, string expected) =>
        (await IdsAsync(query)).Should().Equal(expected.Split(','));

    [Theory]
    [InlineData("georel=near&geometry=Point&coordinates=[1,2]")]
    [InlineData("georel=within&geometry=Point")]
    [InlineData("georel=within&geometry=Polygon&coordinates=[[[0,0],[1,0],[1,1],[0,0.5]]]")]
    [InlineData("georel=sideways&geometry=Point&coordinates=[1,2]")]
    [InlineData("georel=near;maxDistance==0&geometry=Point&coordinates=[1,2]")]
    [InlineData("georel=near;maxDistance==10;minDistance==1&geometry=Point&coordinates=[1,2]")]
    public async Task Bad_geo_query_is_400(string query)
    {
        var response = await _client.Send(HttpMethod.Get, $"{Api.Entities}?{query}", tenant: _tenant);
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Theory]
    [InlineData("scopeQ=/Madrid/Retiro", "retiro")]
    [InlineData("scopeQ=/Madrid/%23", "retiro,sol")]
    [InlineData("scopeQ=/Madrid/Retiro,/Bilbao", "retiro,bilbao")]
    [InlineData("scopeQ=/%23", "retiro,sol,bilbao")]
    [InlineData("scopeQ=/%2B/Retiro", "retiro")]
    [InlineData("scopeQ=/Madrid/%2B", "retiro,sol")]
    [InlineData("scopeQ=/%2B", "bilbao")]
    public async Task ScopeQ_selects_by_scope(string query, string expected) =>
        (await IdsAsync("type=AirQualityObserved&" + query)).Should().Equal(expected.Split(','));

    [Fact]
    public async Task Attrs_keeps_entities_having_one_of_them_and_projects()
    {
        var response = await _client.Send(HttpMethod.Get, $"{Api.Entities}?attrs=category,refDevice", tenant: _tenant);
        var entities = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray();

        entities.Select(e => e!["id"]!.GetValue<string>().Split(':')[^1]).Should().Equal("retiro", "sol", "1");
        entities.Should().OnlyContain(e => e!.AsObject().ContainsKey("no2") == false);
    }

    [Fact]
    public async Task Query_without_any_filter_is_400_unless_local()
    {
        var refused = await _client.Send(HttpMethod.Get, Api.Entities, tenant: _tenant);
        await refused.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
        (await IdsAsync("local=true")).Should().HaveCount(5);
    }

    [Fact]
    public async Task Query_in_an_unknown_tenant_is_404()
    {
        var response = await _client.Send(HttpMethod.Get, $"{Api.Entities}?type=T", tenant: "nobody-" + Guid.NewGuid().ToString("N"));
        await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "NonexistentTenant");
    }

    [Fact]
    public async Task KeyValues_and_geo_json_FeatureCollection()
    {
        var keyValues = await _client.Send(HttpMethod.Get, $"{Api.Entities}?type=AirQualityObserved&options=keyValues&attrs=no2", tenant: _tenant);
        var geo = await _client.Send(HttpMethod.Get, $"{Api.Entities}?type=Road", tenant: _tenant, accept: "application/geo+json");

        JsonNode.Parse(await keyValues.Content.ReadAsStringAsync())![0]!["no2"]!.GetValue<int>().Should().Be(45);
        var collection = JsonNode.Parse(await geo.Content.ReadAsStringAsync())!;
        collection["type"]!.GetValue<string>().Should().Be("FeatureCollection");
        collection["features"]![0]!["geometry"]!["type"]!.GetValue<string>().Should().Be("LineString");
    }

    [Fact]
    public async Task Ld_json_query_results_each_carry_the_context()
    {
        var response = await _client.Send(HttpMethod.Get, $"{Api.Entities}?type=Road", tenant: _tenant, accept: "application/ld+json");
        var entities = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray();
        entities.Should().OnlyContain(e => e!["@context"] != null);
    }

    [Fact]
    public async Task Post_query_with_entity_selectors_q_and_geoQ()
    {
        var body = """
        {"type":"Query","entities":[{"type":"AirQualityObserved","idPattern":"retiro$"},{"type":"Road","id":"urn:ngsi-ld:Road:m30"}],
         "q":"name!=\"Bilbao\"","geoQ":{"georel":"near;maxDistance==5000","geometry":"Point","coordinates":[-3.70,40.416]},"attrs":["name"]}
        """;
        var response = await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/entityOperations/query?options=keyValues", body, tenant: _tenant);
        var entities = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray();

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        entities.Select(e => e!["id"]!.GetValue<string>().Split(':')[^1]).Should().Equal("retiro", "m30");
        entities.Should().OnlyContain(e => e!.AsObject().Count == 3);
    }

    [Theory]
    [InlineData("""{"type":"Subscription"}""")]
    [InlineData("""{"type":"Query","entities":[]}""")]
    [InlineData("""{"type":"Query","entities":[{}]}""")]
    [InlineData("""{"type":"Query","q":"a>"}""")]
    [InlineData("""{"type":"Query","geoQ":"near"}""")]
    public async Task Bad_post_query_is_400(string body)
    {
        var response = await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/entityOperations/query", body, tenant: _tenant);
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }
}

/// <summary>Purge Entities (clause 5.6.21): DELETE /entities with a query.</summary>
public sealed class PurgeEntitiesTests(BrokerFixture fixture) : IClassFixture<BrokerFixture>
{
    private readonly HttpClient _client = fixture.Client;
    private readonly string _tenant = "purge-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Purge_deletes_exactly_the_matching_entities()
    {
        for (var i = 0; i < 30; i++) await _client.CreateOkAsync($$$$"""{"id":"urn:ngsi-ld:Junk:{{{{i}}}}","type":"Junk","n":{{{{i}}}}}""", tenant: _tenant);
        await _client.CreateOkAsync("""{"id":"urn:ngsi-ld:Keep:1","type":"Keep","n":1}""", tenant: _tenant);

        var response = await _client.Send(HttpMethod.Delete, $"{Api.Entities}?type=Junk&q=n>=10", tenant: _tenant);

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        var left = JsonNode.Parse(await (await _client.Send(HttpMethod.Get, $"{Api.Entities}?local=true&limit=100", tenant: _tenant)).Content.ReadAsStringAsync())!.AsArray();
        left.Select(e => e!["id"]!.GetValue<string>()).Should().BeEquivalentTo(
            Enumerable.Range(0, 10).Select(i => $"urn:ngsi-ld:Junk:{i}").Append("urn:ngsi-ld:Keep:1"));
    }

    [Fact]
    public async Task Purge_without_a_filter_is_refused()
    {
        await _client.CreateOkAsync("""{"id":"urn:ngsi-ld:Keep:2","type":"Keep"}""", tenant: _tenant);
        var response = await _client.Send(HttpMethod.Delete, Api.Entities, tenant: _tenant);
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }
}
