using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Ogc;

/// <summary>
/// GET /collections/{collectionId}/items and /items/{featureId}: GeoJSON (/req/geojson/content, definition), paging
/// (/req/core/fc-limit-definition, fc-limit-response-1, fc-links, fc-numberMatched, fc-numberReturned, fc-timeStamp),
/// bbox (/req/core/fc-bbox-definition, -response), datetime (/req/core/fc-time-definition, -response), property filters,
/// unknown and invalid parameters (/req/core/query-param-unknown, -invalid), one feature (/req/core/f-op, f-success, f-links).
/// </summary>
[Collection(OgcCollection.Name)]
public sealed class OgcItemsTests(OgcFixture fx)
{
    private const string Tenant = "ogc-items";
    private const string Items = "/collections/FloodMonitoring/items";

    // Twelve gauges on a line of longitudes 16.01 … 16.12 at latitude 48.2, observed one hour apart from 2025-05-20T00:00Z.
    private static readonly JsonObject[] Gauges = Enumerable.Range(1, 12).Select(i => Ogc.FloodMonitoring(
        $"urn:ngsi-ld:FloodMonitoring:gauge-{i:D2}", 16 + i / 100.0, 48.2, i / 10.0, $"2025-05-20T{i - 1:D2}:00:00Z",
        stationId: i % 2 == 0 ? "even" : "odd")).ToArray();

    private Task SeedAsync() => fx.Client.SeedAsync(Tenant, Gauges);

    [Fact]
    public async Task Items_are_a_geojson_feature_collection_with_keyvalues_properties_in_smart_data_models_names()
    {
        await SeedAsync();
        var response = await fx.Client.Send(HttpMethod.Get, "/ogc" + Items + "?limit=1", tenant: Tenant);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/geo+json");
        var page = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        page["type"]!.GetValue<string>().Should().Be("FeatureCollection");
        var feature = page.Features().Single();
        feature["type"]!.GetValue<string>().Should().Be("Feature");
        feature["id"]!.GetValue<string>().Should().Be("urn:ngsi-ld:FloodMonitoring:gauge-01");
        feature["geometry"]!["type"]!.GetValue<string>().Should().Be("Point");
        feature.Point().Should().Be((16.01, 48.2));
        var properties = feature["properties"]!.AsObject();
        properties.Select(p => p.Key).Should().BeEquivalentTo("type", "currentLevel", "referenceLevel", "stationID");
        properties["type"]!.GetValue<string>().Should().Be("FloodMonitoring");
        properties["currentLevel"]!.GetValue<double>().Should().Be(0.1);
        properties["stationID"]!.GetValue<string>().Should().Be("odd");
    }

    [Fact]
    public async Task Paging_follows_next_links_through_every_feature_once_with_numberMatched_and_numberReturned()
    {
        await SeedAsync();
        var seen = new List<string>();
        string? path = Items + "?limit=5";
        var pages = 0;
        while (path is not null)
        {
            var page = await fx.Client.OgcOkAsync(path, Tenant);
            pages++;
            page["numberMatched"]!.GetValue<long>().Should().Be(12);
            page["numberReturned"]!.GetValue<int>().Should().Be(page.Features().Count());
            DateTimeOffset.Parse(page["timeStamp"]!.GetValue<string>()).Should().BeCloseTo(DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5));
            page.LinkOf("self")!.OgcPath().Should().Be(path);
            page.LinkOf("collection")!.OgcPath().Should().Be("/collections/FloodMonitoring");
            if (pages > 1) page.LinkOf("prev").Should().NotBeNull();
            seen.AddRange(page.FeatureIds());
            path = page.LinkOf("next")?.OgcPath();
        }
        pages.Should().Be(3);
        seen.Should().Equal(Gauges.Select(g => g["id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Default_limit_is_ten()
    {
        await SeedAsync();
        (await fx.Client.OgcOkAsync(Items, Tenant)).Features().Should().HaveCount(10);
    }

    [Fact]
    public async Task Limit_above_the_maximum_is_answered_with_the_maximum_not_an_error()
    {
        await SeedAsync();
        await fx.Client.SeedAsync(Tenant + "-many", Enumerable.Range(1, 55).Select(i =>
            Ogc.FloodMonitoring($"urn:ngsi-ld:FloodMonitoring:many-{i}", 10, 50, 1, "2025-05-20T00:00:00Z")).ToArray());
        var page = await fx.Client.OgcOkAsync(Items + "?limit=100000000000", Tenant + "-many");
        page["numberReturned"]!.GetValue<int>().Should().Be(50, "the fixture's Kontext:Ogc:MaxLimit is 50");
        page["numberMatched"]!.GetValue<int>().Should().Be(55);
        page.LinkOf("next")!.OgcPath().Should().Contain("offset=50");
    }

    [Theory]
    [InlineData("limit=0")]
    [InlineData("limit=-1")]
    [InlineData("limit=ten")]
    [InlineData("offset=-1")]
    [InlineData("bbox=1,2,3")]
    [InlineData("bbox=16,48,abc,49")]
    [InlineData("bbox=16,91,17,92")]
    [InlineData("bbox=16,49,17,48")]
    [InlineData("bbox=-181,48,17,49")]
    [InlineData("datetime=yesterday")]
    [InlineData("datetime=2025-05-20")]
    [InlineData("datetime=../..")]
    [InlineData("datetime=2025-05-21T00:00:00Z/2025-05-20T00:00:00Z")]
    [InlineData("datetime=2025-05-20T00:00:00Z/2025-05-21T00:00:00Z/2025-05-22T00:00:00Z")]
    [InlineData("limit=1&limit=2")]
    [InlineData("f=xml")]
    public async Task Invalid_parameter_value_is_400_as_an_ogc_exception(string query)
    {
        await SeedAsync();
        await fx.Client.ShouldBeOgcExceptionAsync(Items + "?" + query, Tenant, HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("/collections/FloodMonitoring/items?colour=red", "colour")]
    [InlineData("/collections/FloodMonitoring/items?type=FloodMonitoring", "type")]
    [InlineData("/collections?limit=1", "limit")]
    [InlineData("/conformance?x=1", "x")]
    [InlineData("?bbox=1,2,3,4", "bbox")]
    [InlineData("/collections/FloodMonitoring/items/urn:ngsi-ld:FloodMonitoring:gauge-01?limit=1", "limit")]
    public async Task Query_parameter_not_in_the_api_definition_is_400(string path, string name)
    {
        await SeedAsync();
        await fx.Client.ShouldBeOgcExceptionAsync(path, Tenant, HttpStatusCode.BadRequest, name);
    }

    [Fact]
    public async Task Bbox_selects_the_features_whose_geometry_intersects_it()
    {
        await SeedAsync();
        var page = await fx.Client.OgcOkAsync(Items + "?bbox=16.035,48.1,16.065,48.3", Tenant);
        page.FeatureIds().Should().Equal("urn:ngsi-ld:FloodMonitoring:gauge-04", "urn:ngsi-ld:FloodMonitoring:gauge-05", "urn:ngsi-ld:FloodMonitoring:gauge-06");
        page["numberMatched"]!.GetValue<int>().Should().Be(3);
        (await fx.Client.OgcOkAsync(Items + "?bbox=10,10,11,11", Tenant)).Features().Should().BeEmpty();
    }

    [Fact]
    public async Task Bbox_with_six_numbers_matches_on_the_horizontal_extent()
    {
        await SeedAsync();
        (await fx.Client.OgcOkAsync(Items + "?bbox=16.035,48.1,-10,16.065,48.3,100", Tenant)).FeatureIds().Should().HaveCount(3);
    }

    [Fact]
    public async Task Bbox_touching_a_point_and_a_degenerate_box_select_it()
    {
        await SeedAsync();
        (await fx.Client.OgcOkAsync(Items + "?bbox=16.04,48.2,16.04,48.2", Tenant)).FeatureIds().Should().Equal("urn:ngsi-ld:FloodMonitoring:gauge-04");
        (await fx.Client.OgcOkAsync(Items + "?bbox=16.04,48.0,16.04,48.5", Tenant)).FeatureIds().Should().Equal("urn:ngsi-ld:FloodMonitoring:gauge-04");
    }

    [Fact]
    public async Task Bbox_across_the_antimeridian_has_its_west_edge_east_of_its_east_edge()
    {
        const string tenant = "ogc-items-pacific";
        await fx.Client.SeedAsync(tenant,
            Ogc.FloodMonitoring("urn:ngsi-ld:FloodMonitoring:fiji", 178.4, -18.1, 1, "2025-05-20T00:00:00Z"),
            Ogc.FloodMonitoring("urn:ngsi-ld:FloodMonitoring:samoa", -171.8, -13.8, 1, "2025-05-20T00:00:00Z"),
            Ogc.FloodMonitoring("urn:ngsi-ld:FloodMonitoring:vienna", 16.4, 48.2, 1, "2025-05-20T00:00:00Z"));
        (await fx.Client.OgcOkAsync(Items + "?bbox=170,-25,-165,-10", tenant)).FeatureIds()
            .Should().BeEquivalentTo("urn:ngsi-ld:FloodMonitoring:fiji", "urn:ngsi-ld:FloodMonitoring:samoa");
    }

    [Fact]
    public async Task Datetime_selects_features_observed_at_an_instant_or_within_an_interval()
    {
        await SeedAsync();
        (await fx.Client.OgcOkAsync(Items + "?datetime=2025-05-20T03:00:00Z", Tenant)).FeatureIds()
            .Should().Equal("urn:ngsi-ld:FloodMonitoring:gauge-04");
        (await fx.Client.OgcOkAsync(Items + "?datetime=2025-05-20T02:30:00Z/2025-05-20T05:00:00Z", Tenant)).FeatureIds()
            .Should().Equal("urn:ngsi-ld:FloodMonitoring:gauge-04", "urn:ngsi-ld:FloodMonitoring:gauge-05", "urn:ngsi-ld:FloodMonitoring:gauge-06");
        (await fx.Client.OgcOkAsync(Items + "?datetime=2025-05-20T10:00:00Z/..", Tenant)).FeatureIds()
            .Should().Equal("urn:ngsi-ld:FloodMonitoring:gauge-11", "urn:ngsi-ld:FloodMonitoring:gauge-12");
        (await fx.Client.OgcOkAsync(Items + "?datetime=/2025-05-20T00:00:00Z", Tenant)).FeatureIds()
            .Should().Equal("urn:ngsi-ld:FloodMonitoring:gauge-01");
        var offset = await fx.Client.OgcOkAsync(Items + "?datetime=" + Uri.EscapeDataString("2025-05-20T05:00:00+02:00"), Tenant);
        offset.FeatureIds().Should().ContainSingle().Which.Should().Be("urn:ngsi-ld:FloodMonitoring:gauge-04", "an offset is the same instant in UTC");
        offset["numberMatched"]!.GetValue<int>().Should().Be(1);
    }

    [Fact]
    public async Task Datetime_uses_modification_times_for_entities_without_observations()
    {
        const string tenant = "ogc-items-unobserved";
        var before = DateTimeOffset.UtcNow.AddMinutes(-1);
        await fx.Client.CreateOkAsync("""{"id": "urn:ngsi-ld:Bench:1", "type": "Bench", "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [2, 41]}}}""", tenant: tenant);
        var since = Uri.EscapeDataString(before.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'") + "/..");
        (await fx.Client.OgcOkAsync("/collections/Bench/items?datetime=" + since, tenant)).FeatureIds().Should().Equal("urn:ngsi-ld:Bench:1");
        (await fx.Client.OgcOkAsync("/collections/Bench/items?datetime=../2020-01-01T00:00:00Z", tenant)).Features().Should().BeEmpty();
    }

    [Fact]
    public async Task Property_equal_to_a_query_parameter_value_filters_the_features()
    {
        await SeedAsync();
        var even = await fx.Client.OgcOkAsync(Items + "?stationID=even&limit=50", Tenant);
        even.FeatureIds().Should().HaveCount(6).And.OnlyContain(id => int.Parse(id.Substring(id.Length - 2)) % 2 == 0);
        even["numberMatched"]!.GetValue<int>().Should().Be(6);
        (await fx.Client.OgcOkAsync(Items + "?currentLevel=0.7", Tenant)).FeatureIds().Should().Equal("urn:ngsi-ld:FloodMonitoring:gauge-07");
        (await fx.Client.OgcOkAsync(Items + "?currentLevel=0.7&currentLevel=0.8", Tenant)).FeatureIds().Should().HaveCount(2);
        (await fx.Client.OgcOkAsync(Items + "?stationID=odd&bbox=16.035,48.1,16.065,48.3", Tenant)).FeatureIds()
            .Should().Equal("urn:ngsi-ld:FloodMonitoring:gauge-05");
    }

    [Fact]
    public async Task Paging_keeps_the_filters_in_the_next_link()
    {
        await SeedAsync();
        var first = await fx.Client.OgcOkAsync(Items + "?stationID=even&limit=4", Tenant);
        var next = first.LinkOf("next")!.OgcPath();
        next.Should().Contain("stationID=even").And.Contain("offset=4");
        var second = await fx.Client.OgcOkAsync(next, Tenant);
        second.FeatureIds().Should().Equal("urn:ngsi-ld:FloodMonitoring:gauge-10", "urn:ngsi-ld:FloodMonitoring:gauge-12");
        second.LinkOf("next").Should().BeNull();
    }

    [Fact]
    public async Task Feature_by_id_is_a_geojson_feature_with_self_and_collection_links()
    {
        await SeedAsync();
        var response = await fx.Client.Send(HttpMethod.Get, "/ogc" + Items + "/urn:ngsi-ld:FloodMonitoring:gauge-03", tenant: Tenant);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/geo+json");
        var feature = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        feature["id"]!.GetValue<string>().Should().Be("urn:ngsi-ld:FloodMonitoring:gauge-03", "the id is the featureId of the path (/req/geojson/content B)");
        feature["properties"]!["currentLevel"]!.GetValue<double>().Should().Be(0.3);
        feature.LinkOf("self")!.OgcPath().Should().Be(Items + "/urn:ngsi-ld:FloodMonitoring:gauge-03");
        feature.LinkOf("collection")!.OgcPath().Should().Be("/collections/FloodMonitoring");
    }

    [Fact]
    public async Task Unknown_feature_and_a_feature_of_another_collection_are_404()
    {
        await SeedAsync();
        await fx.Client.CreateOkAsync("""{"id": "urn:ngsi-ld:Bench:items-1", "type": "Bench", "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [2, 41]}}}""", tenant: Tenant);
        await fx.Client.ShouldBeOgcExceptionAsync(Items + "/urn:ngsi-ld:FloodMonitoring:none", Tenant, HttpStatusCode.NotFound);
        await fx.Client.ShouldBeOgcExceptionAsync(Items + "/urn:ngsi-ld:Bench:items-1", Tenant, HttpStatusCode.NotFound);
        (await fx.Client.OgcOkAsync("/collections/Bench/items/urn:ngsi-ld:Bench:items-1", Tenant))["id"]!.GetValue<string>()
            .Should().Be("urn:ngsi-ld:Bench:items-1");
    }

    [Fact]
    public async Task Features_are_the_entities_of_the_ngsi_ld_query_for_the_same_type_and_box()
    {
        await SeedAsync();
        var features = await fx.Client.OgcOkAsync(Items + "?bbox=16.025,48.1,16.085,48.3&limit=50", Tenant);
        var query = """{"type": "Query", "entities": [{"type": "FloodMonitoring"}], "geoQ": {"georel": "intersects", "geometry": "Polygon", "coordinates": [[[16.025,48.1],[16.085,48.1],[16.085,48.3],[16.025,48.3],[16.025,48.1]]]}, "@context": """
                    + Ogc.EnvironmentContext.ToJsonString() + "}";
        var response = await fx.Client.Send(HttpMethod.Post, "/ngsi-ld/v1/entityOperations/query?options=keyValues&count=true", query, "application/ld+json", tenant: Tenant);
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var entities = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray().Select(e => e!.AsObject()).ToList();
        features["numberMatched"]!.GetValue<int>().Should().Be(int.Parse(response.Headers.GetValues("NGSILD-Results-Count").Single())).And.Be(6);
        features.FeatureIds().Should().Equal(entities.Select(e => e["id"]!.GetValue<string>()));
        foreach (var (feature, entity) in features.Features().Zip(entities))
        {
            foreach (var (name, value) in feature["properties"]!.AsObject())
                JsonNode.DeepEquals(value, entity[name]).Should().BeTrue("{0} of {1}", name, entity["id"]);
            JsonNode.DeepEquals(feature["geometry"], entity["location"]).Should().BeTrue();
        }
    }
}
