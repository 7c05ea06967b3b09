using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Ogc;

/// <summary>
/// GET /collections and /collections/{collectionId} (/req/core/fc-md-op, fc-md-success, fc-md-links, fc-md-items,
/// fc-md-items-links, fc-md-extent, sfc-md-op, sfc-md-success) with the Part 2 CRS list and storage CRS
/// (/req/crs/fc-md-crs-list, fc-md-storageCrs).
/// </summary>
[Collection(OgcCollection.Name)]
public sealed class OgcCollectionsTests(OgcFixture fx)
{
    private Task SeedAsync(string tenant) => fx.Client.SeedAsync(tenant,
        Ogc.FloodMonitoring("urn:ngsi-ld:FloodMonitoring:col-1", 16.30, 48.10, 1.0, "2025-05-20T08:00:00Z"),
        Ogc.FloodMonitoring("urn:ngsi-ld:FloodMonitoring:col-2", 16.50, 48.30, 1.1, "2025-05-21T09:30:00Z"));

    [Fact]
    public async Task Collections_are_one_per_entity_type_with_a_geoproperty_named_by_the_smart_data_models_short_name()
    {
        const string tenant = "ogc-collections-1";
        await SeedAsync(tenant);
        // A type without any GeoProperty is not a collection.
        await fx.Client.CreateOkAsync("""{"id": "urn:ngsi-ld:Counter:1", "type": "Counter", "count": {"type": "Property", "value": 3}}""", tenant: tenant);
        // A type without a shipped context keeps its core-context short name.
        await fx.Client.CreateOkAsync("""{"id": "urn:ngsi-ld:Bench:1", "type": "Bench", "site": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [2, 41]}}}""", tenant: tenant);

        var collections = await fx.Client.OgcOkAsync("/collections", tenant);
        collections.LinkOf("self")!.OgcPath().Should().Be("/collections");
        var items = collections["collections"]!.AsArray().Select(c => c!.AsObject()).ToList();
        items.Select(c => c["id"]!.GetValue<string>()).Should().Equal("Bench", "FloodMonitoring");
        var flood = items.Single(c => c["id"]!.GetValue<string>() == "FloodMonitoring");
        flood["description"]!.GetValue<string>().Should().Contain("https://smartdatamodels.org/dataModel.Environment/FloodMonitoring");
        flood["itemType"]!.GetValue<string>().Should().Be("feature");
        flood.LinkOf("items")!["type"]!.GetValue<string>().Should().Be("application/geo+json");
        flood.LinkOf("items")!.OgcPath().Should().Be("/collections/FloodMonitoring/items");
    }

    [Fact]
    public async Task Collection_extent_is_computed_from_the_features_geometry_and_observation_times()
    {
        const string tenant = "ogc-collections-2";
        await SeedAsync(tenant);
        var flood = await fx.Client.OgcOkAsync("/collections/FloodMonitoring", tenant);
        flood["extent"]!["spatial"]!["bbox"]![0]!.AsArray().Select(v => v!.GetValue<double>()).Should().Equal(16.30, 48.10, 16.50, 48.30);
        flood["extent"]!["spatial"]!["crs"]!.GetValue<string>().Should().Be(Ogc.Crs84);
        flood["extent"]!["temporal"]!["interval"]![0]!.AsArray().Select(v => v!.GetValue<string>())
            .Should().Equal("2025-05-20T08:00:00.000Z", "2025-05-21T09:30:00.000Z");
    }

    [Fact]
    public async Task Collection_extent_follows_a_write()
    {
        const string tenant = "ogc-collections-3";
        await SeedAsync(tenant);
        (await fx.Client.OgcOkAsync("/collections/FloodMonitoring", tenant))["extent"]!["spatial"]!["bbox"]![0]![2]!.GetValue<double>().Should().Be(16.50);
        await fx.Client.SeedAsync(tenant, Ogc.FloodMonitoring("urn:ngsi-ld:FloodMonitoring:col-3", 17.00, 48.00, 0.9, "2025-06-01T00:00:00Z"));
        var extent = (await fx.Client.OgcOkAsync("/collections/FloodMonitoring", tenant))["extent"]!;
        extent["spatial"]!["bbox"]![0]!.AsArray().Select(v => v!.GetValue<double>()).Should().Equal(16.30, 48.00, 17.00, 48.30);
        extent["temporal"]!["interval"]![0]![1]!.GetValue<string>().Should().Be("2025-06-01T00:00:00.000Z");
    }

    [Fact]
    public async Task Collection_page_repeats_its_entry_in_the_list_and_links_to_itself()
    {
        const string tenant = "ogc-collections-4";
        await SeedAsync(tenant);
        var entry = (await fx.Client.OgcOkAsync("/collections", tenant))["collections"]![0]!.AsObject();
        var page = await fx.Client.OgcOkAsync("/collections/FloodMonitoring", tenant);
        foreach (var member in new[] { "id", "title", "description", "extent", "itemType" })
            JsonNode.DeepEquals(page[member], entry[member]).Should().BeTrue("{0} must be identical (/req/core/sfc-md-success)", member);
        foreach (var link in entry["links"]!.AsArray())
            page["links"]!.AsArray().Should().Contain(l => JsonNode.DeepEquals(l, link));
        page.LinkOf("self")!.OgcPath().Should().Be("/collections/FloodMonitoring");
    }

    [Fact]
    public async Task Collection_lists_crs84_and_epsg4326_and_stores_in_crs84()
    {
        const string tenant = "ogc-collections-5";
        await SeedAsync(tenant);
        var flood = await fx.Client.OgcOkAsync("/collections/FloodMonitoring", tenant);
        flood["crs"]!.AsArray().Select(c => c!.GetValue<string>()).Should().Equal(Ogc.Crs84, Ogc.Epsg4326);
        flood["storageCrs"]!.GetValue<string>().Should().Be(Ogc.Crs84);
    }

    [Fact]
    public async Task Unknown_collection_is_404_as_an_ogc_exception()
    {
        const string tenant = "ogc-collections-6";
        await SeedAsync(tenant);
        await fx.Client.ShouldBeOgcExceptionAsync("/collections/NoSuchType", tenant, HttpStatusCode.NotFound, "NoSuchType");
        await fx.Client.ShouldBeOgcExceptionAsync("/collections/NoSuchType/items", tenant, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_tenant_sees_only_its_own_collections()
    {
        await SeedAsync("ogc-collections-7");
        await fx.Client.CreateOkAsync("""{"id": "urn:ngsi-ld:Bench:7", "type": "Bench", "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [2, 41]}}}""", tenant: "ogc-collections-8");
        (await fx.Client.OgcOkAsync("/collections", "ogc-collections-8"))["collections"]!.AsArray().Select(c => c!["id"]!.GetValue<string>())
            .Should().Equal("Bench");
    }
}

/// <summary>A collection above Kontext:Ogc:ExtentScanLimit gets the extent that is always true, without reading its features.</summary>
public sealed class OgcExtentLimitTests
{
    [Fact]
    public async Task Extent_of_a_collection_above_the_scan_limit_is_the_whole_crs84_range_and_unbounded()
    {
        await using var factory = new BrokerFactory(settings: new Dictionary<string, string?>
        {
            ["Kontext:Adapters:SchemaDirectory"] = Path.Combine(RepoPaths.Root, "schemas"),
            ["Kontext:Ogc:ExtentScanLimit"] = "2",
        });
        try
        {
            var client = factory.CreateClient();
            await client.SeedAsync("big",
                Ogc.FloodMonitoring("urn:ngsi-ld:FloodMonitoring:big-1", 16.1, 48.1, 1, "2025-05-20T08:00:00Z"),
                Ogc.FloodMonitoring("urn:ngsi-ld:FloodMonitoring:big-2", 16.2, 48.2, 1, "2025-05-20T08:00:00Z"),
                Ogc.FloodMonitoring("urn:ngsi-ld:FloodMonitoring:big-3", 16.3, 48.3, 1, "2025-05-20T08:00:00Z"));
            var extent = (await client.OgcOkAsync("/collections/FloodMonitoring", "big"))["extent"]!;
            extent["spatial"]!["bbox"]![0]!.AsArray().Select(v => v!.GetValue<double>()).Should().Equal(-180, -90, 180, 90);
            extent["temporal"]!["interval"]![0]!.AsArray().Should().HaveCount(2).And.OnlyContain(end => end == null);
        }
        finally
        {
            factory.DeleteData();
        }
    }
}
