using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Entities;

/// <summary>
/// What Query Entities, Retrieve Entity and the type/attribute listings refuse (clauses 5.7.1.4, 5.7.2.4, 5.2.23,
/// 5.2.33, 6.3.20), and the query features around them: type=*, language filters, expandValues, entity selectors with
/// several ids, pagination links and GeoJSON bodies.
/// </summary>
public sealed class QueryParameterValidationTests : IClassFixture<BrokerFixture>, IAsyncLifetime
{
    private readonly HttpClient _client;
    private readonly string _tenant = "validation-" + Guid.NewGuid().ToString("N")[..8];

    public QueryParameterValidationTests(BrokerFixture fixture) => _client = fixture.Client;

    public async Task InitializeAsync()
    {
        await _client.CreateOkAsync("""
            {"id":"urn:ngsi-ld:Shop:1","type":"Shop","name":"Zara","color":{"type":"LanguageProperty","languageMap":{"en":"red","fr":"rouge"}},
             "kind":{"type":"VocabProperty","vocab":"retail"},"owner":{"type":"Relationship","object":"urn:ngsi-ld:Person:b"},
             "location":{"type":"Point","coordinates":[-0.3763,39.4699]},"scope":"/Valencia/Centro"}
            """, tenant: _tenant);
        await _client.CreateOkAsync("""{"id":"urn:ngsi-ld:Shop:2","type":"Shop","name":"Mango","location":{"type":"Point","coordinates":[-0.3800,39.4700]}}""", tenant: _tenant);
        await _client.CreateOkAsync("""{"id":"urn:ngsi-ld:Kiosk:1","type":"Kiosk","name":"Prensa"}""", tenant: _tenant);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<List<string>> IdsAsync(string query)
    {
        var response = await _client.Send(HttpMethod.Get, $"{Api.Entities}?{query}", tenant: _tenant);
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, text);
        return JsonNode.Parse(text)!.AsArray().Select(e => e!["id"]!.GetValue<string>()).ToList();
    }

    [Theory]
    [InlineData("/ngsi-ld/v1/entities?type=Shop&colour=red")]
    [InlineData("/ngsi-ld/v1/entities/urn:ngsi-ld:Shop:1?limit=5")]
    [InlineData("/ngsi-ld/v1/types?limit=5")]
    [InlineData("/ngsi-ld/v1/types/Shop?details=true")]
    [InlineData("/ngsi-ld/v1/attributes?offset=1")]
    [InlineData("/ngsi-ld/v1/attributes/name?details=true")]
    [InlineData("/ngsi-ld/v1/entities/urn:ngsi-ld:Shop:1?format=fancy")]
    [InlineData("/ngsi-ld/v1/entities/urn:ngsi-ld:Shop:1?options=keyValues,fancy")]
    public async Task A_query_parameter_the_operation_does_not_define_is_400_InvalidRequest(string pathAndQuery)
    {
        var response = await _client.Send(HttpMethod.Get, pathAndQuery, tenant: _tenant);
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "InvalidRequest");
    }

    [Theory]
    [InlineData("id=urn:ngsi-ld:Shop:1")]
    [InlineData("idPattern=Shop")]
    [InlineData("scopeQ=/Valencia/%23")]
    [InlineData("attrs=createdAt")]
    [InlineData("q=modifiedAt>\"2020-01-01T00:00:00Z\"")]
    [InlineData("type=*&local=false")]
    [InlineData("type=Shop&csf=))bad((")]
    [InlineData("type=Shop&geometryProperty=location")]
    public async Task Query_Entities_refuses_too_wide_or_invalid_requests_with_BadRequestData(string query)
    {
        var response = await _client.Send(HttpMethod.Get, $"{Api.Entities}?{query}", tenant: _tenant);
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task Type_wildcard_selects_every_type() =>
        (await IdsAsync("type=*")).Should().BeEquivalentTo("urn:ngsi-ld:Shop:1", "urn:ngsi-ld:Shop:2", "urn:ngsi-ld:Kiosk:1");

    [Theory]
    [InlineData("q=color[en]==\"red\"", "1")]
    [InlineData("q=color[en]==\"rouge\"", "")]
    [InlineData("q=color[*]==\"rouge\"", "1")]
    [InlineData("q=color[*]!=\"red\"", "")]
    [InlineData("q=owner>\"urn:a\"", "")]
    [InlineData("q=owner==urn:ngsi-ld:Person:b", "1")]
    [InlineData("q=kind==retail", "")]
    [InlineData("q=kind==retail&expandValues=kind", "1")]
    [InlineData("scopeQ=/%2B/Centro", "1")]
    public async Task Q_on_languages_relationships_and_vocab_terms(string query, string expected) =>
        (await IdsAsync("type=Shop&" + query)).Select(id => id.Split(':')[^1]).Should().Equal(expected.Length == 0 ? [] : expected.Split(','));

    [Fact]
    public async Task Near_measures_from_the_closest_point_of_a_reference_line()
    {
        // A line 1 km south of the shops, 50 km long: their distance to its first point is ~25 km.
        (await IdsAsync("type=Shop&georel=near;maxDistance==1500&geometry=LineString&coordinates=[[-0.66,39.46],[-0.09,39.46]]"))
            .Should().HaveCount(2);
    }

    [Theory]
    [InlineData("""{"type":"Query","entities":[{"id":"urn:ngsi-ld:Shop:1"}]}""")]
    [InlineData("""{"type":"Query","entities":[{"type":"Shop","id":"not a uri"}]}""")]
    [InlineData("""{"type":"Query","entities":[{"type":"Shop","id":["urn:ngsi-ld:Shop:1",5]}]}""")]
    [InlineData("""{"type":"Query","entities":[{"type":"Shop"}],"attrs":[]}""")]
    [InlineData("""{"type":"Query","entities":[{"type":"Shop"}],"q":42}""")]
    [InlineData("""{"type":"Query","entities":[{"type":"Shop"}],"join":"inline","joinLevel":0}""")]
    [InlineData("""{"type":"Query","entities":[{"type":"Shop"}],"temporalQ":{"timerel":"after","timeAt":"2020-01-01T00:00:00Z"}}""")]
    [InlineData("""{"type":"Query","entities":[{"type":"Shop"}],"ordering":{"orderBy":["location;dist-asc"]}}""")]
    [InlineData("""{"type":"Query","entities":[{"type":"Shop"}],"ordering":{"orderBy":["id"],"collation":"not a tag!"}}""")]
    public async Task Post_query_refuses_invalid_bodies_with_BadRequestData(string body)
    {
        var response = await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/entityOperations/query", body, tenant: _tenant);
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Theory]
    [InlineData("""{"type":"Shop","id":["urn:ngsi-ld:Shop:1","urn:ngsi-ld:Shop:2"]}""", "1,2")]
    [InlineData("""{"type":"Shop","id":"urn:ngsi-ld:Shop:1","idPattern":":2$"}""", "1")]
    [InlineData("""{"type":"Shop","idPattern":":2$"}""", "2")]
    public async Task Entity_selectors_take_one_or_several_ids_which_win_over_idPattern(string selector, string expected)
    {
        var response = await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/entityOperations/query", $$"""{"type":"Query","entities":[{{selector}}]}""", tenant: _tenant);
        var list = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray();
        list.Select(e => e!["id"]!.GetValue<string>().Split(':')[^1]).Should().Equal(expected.Split(','));
    }

    [Fact]
    public async Task Pagination_links_keep_every_parameter_in_a_canonical_order_with_the_media_type()
    {
        var response = await _client.Send(HttpMethod.Get, $"{Api.Entities}/?type=Shop&limit=1&offset=1&count=true&idPattern=urn:ngsi-ld:Shop:.*", tenant: _tenant);

        var links = response.Headers.GetValues("Link").SelectMany(v => v.Split(", <")).Where(l => l.Contains("rel=\"prev\"")).ToList();
        links.Should().ContainSingle().Which.Should().Be(
            "</ngsi-ld/v1/entities?count=true&idPattern=urn:ngsi-ld:Shop:.*&limit=1&offset=0&type=Shop>; rel=\"prev\"; type=\"application/json\"");
        response.Headers.GetValues("Link").Should().NotContain(l => l.Contains("rel=\"next\""), "the second of two is the last page");
    }

    [Fact]
    public async Task GeoJSON_bodies_carry_the_context()
    {
        var feature = await _client.Send(HttpMethod.Get, $"{Api.Entities}/urn:ngsi-ld:Shop:1", tenant: _tenant, accept: "application/geo+json");
        var collection = await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/entityOperations/query",
            """{"type":"Query","entities":[{"type":"Shop"}]}""", tenant: _tenant, accept: "application/geo+json");

        (await feature.JsonAsync())["@context"].Should().NotBeNull();
        collection.StatusCode.Should().Be(HttpStatusCode.OK);
        collection.Content.Headers.ContentType!.MediaType.Should().Be("application/geo+json");
        var body = await collection.JsonAsync();
        body["type"]!.GetValue<string>().Should().Be("FeatureCollection");
        body["@context"].Should().NotBeNull();
        body["features"]!.AsArray().Should().HaveCount(2).And.OnlyContain(f => f!["@context"] == null);
    }
}
