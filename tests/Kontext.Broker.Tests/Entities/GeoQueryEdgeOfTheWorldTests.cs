using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Entities;

/// <summary>
/// Geo queries (clause 4.10) where the query's area reaches the antimeridian or a pole: near measures great-circle
/// metres across ±180° and over the poles; a query polygon that crosses the antimeridian uncut is planar (RFC 7946
/// §3.1.9 asks for it to be cut in two), so it goes the long way round, with a 200, not an error.
/// </summary>
public sealed class GeoQueryEdgeOfTheWorldTests : IClassFixture<BrokerFixture>, IAsyncLifetime
{
    private readonly HttpClient _client;
    private readonly string _tenant = "geo-edge-" + Guid.NewGuid().ToString("N")[..8];

    public GeoQueryEdgeOfTheWorldTests(BrokerFixture fixture) => _client = fixture.Client;

    public async Task InitializeAsync()
    {
        // Taveuni, Fiji, is cut by the antimeridian: two buoys ~164 m apart on either side, one ~5.5 km west; two stations
        // ~222 m apart over the North Pole, one ~2.2 km away; and one at Greenwich's latitude 10°N.
        (string Id, string Coordinates)[] places =
        [
            ("east", "[179.9990,10]"), ("west", "[-179.9995,10]"), ("far", "[179.95,10]"),
            ("pole0", "[0,89.999]"), ("pole180", "[180,89.999]"), ("polefar", "[90,89.98]"),
            ("greenwich", "[0,10]"),
        ];
        foreach (var (id, coordinates) in places)
            await _client.CreateOkAsync($$$"""{"id":"urn:ngsi-ld:Buoy:{{{id}}}","type":"Buoy","location":{"type":"Point","coordinates":{{{coordinates}}}}}""", tenant: _tenant);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<List<string>> IdsAsync(string query)
    {
        var response = await _client.Send(HttpMethod.Get, $"{Api.Entities}?type=Buoy&count=true&{query}", tenant: _tenant);
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, text);
        var ids = JsonNode.Parse(text)!.AsArray().Select(e => e!["id"]!.GetValue<string>().Split(':')[^1]).ToList();
        response.Headers.GetValues("NGSILD-Results-Count").Single().Should().Be(ids.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return ids;
    }

    [Theory]
    [InlineData("georel=near;maxDistance==500&geometry=Point&coordinates=[179.9990,10]", "east,west")]
    [InlineData("georel=near;maxDistance==500&geometry=Point&coordinates=[-179.9995,10]", "east,west")]
    [InlineData("georel=near;minDistance==500&geometry=Point&coordinates=[179.9990,10]", "far,pole0,pole180,polefar,greenwich")]
    [InlineData("georel=near;maxDistance==100&geometry=Point&coordinates=[179.9990,10]", "east")]
    [InlineData("georel=near;maxDistance==500&geometry=Point&coordinates=[0,89.999]", "pole0,pole180")]
    [InlineData("georel=near;minDistance==500&geometry=Point&coordinates=[0,89.999]", "east,west,far,polefar,greenwich")]
    [InlineData("georel=near;maxDistance==3000&geometry=Point&coordinates=[0,90]", "pole0,pole180,polefar")]
    public async Task Near_measures_across_the_antimeridian_and_over_the_poles(string query, string expected) =>
        (await IdsAsync(query)).Should().Equal(expected.Split(','));

    [Theory]
    // Uncut, this band runs from 179.99°E west through Greenwich to 179.99°W: planar, as every store reads it.
    [InlineData("georel=within&geometry=Polygon&coordinates=[[[179.99,9.99],[-179.99,9.99],[-179.99,10.01],[179.99,10.01],[179.99,9.99]]]", "far,greenwich")]
    [InlineData("georel=disjoint&geometry=Polygon&coordinates=[[[179.99,9.99],[-179.99,9.99],[-179.99,10.01],[179.99,10.01],[179.99,9.99]]]", "east,west,pole0,pole180,polefar")]
    // Cut in two at the antimeridian (RFC 7946 §3.1.9): the 0.02° band across it.
    [InlineData("georel=within&geometry=MultiPolygon&coordinates=[[[[179.99,9.99],[180,9.99],[180,10.01],[179.99,10.01],[179.99,9.99]]],[[[-180,9.99],[-179.99,9.99],[-179.99,10.01],[-180,10.01],[-180,9.99]]]]", "east,west")]
    public async Task A_polygon_across_the_antimeridian_is_planar_uncut_and_the_narrow_band_cut_in_two(string query, string expected) =>
        (await IdsAsync(query)).Should().Equal(expected.Split(','));
}
