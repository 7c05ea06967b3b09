using System.Net;
using System.Text.Json.Nodes;

namespace Kontext.Broker.Tests.Ogc;

/// <summary>
/// OGC API – Features Part 2, CRS by reference: crs (/req/crs/fc-crs-definition, -valid-value, -default-value, -action),
/// bbox-crs (/req/crs/fc-bbox-crs-definition, -valid-value, -default-value, -action), Content-Crs
/// (/req/crs/ogc-crs-header, -header-value) and the exceptions (/req/crs/crs-exception, bbox-crs-exception).
/// </summary>
[Collection(OgcCollection.Name)]
public sealed class OgcCrsTests(OgcFixture fx)
{
    private const string Tenant = "ogc-crs";
    private const string Items = "/collections/FloodMonitoring/items";
    private static readonly string Epsg4326 = Uri.EscapeDataString(Ogc.Epsg4326);
    private static readonly string Crs84 = Uri.EscapeDataString(Ogc.Crs84);

    private async Task SeedAsync()
    {
        var flood = Ogc.FloodMonitoring("urn:ngsi-ld:FloodMonitoring:crs-1", 16.37208, 48.20849, 1.2, "2025-05-20T08:00:00Z");
        // A second GeoProperty: every geometry-valued property follows the requested CRS.
        flood["observationSpace"] = new JsonObject
        {
            ["type"] = "GeoProperty",
            ["value"] = new JsonObject { ["type"] = "LineString", ["coordinates"] = new JsonArray(new JsonArray(16.0, 48.0), new JsonArray(17.0, 49.0)) },
        };
        await fx.Client.SeedAsync(Tenant, flood);
    }

    [Fact]
    public async Task Without_crs_geometries_are_crs84_longitude_first_and_content_crs_says_so()
    {
        await SeedAsync();
        var (status, page, response) = await fx.Client.OgcAsync(Items, Tenant);
        status.Should().Be(HttpStatusCode.OK);
        response.Headers.GetValues("Content-Crs").Single().Should().Be($"<{Ogc.Crs84}>");
        page.Features().Single().Point().Should().Be((16.37208, 48.20849));
    }

    [Fact]
    public async Task Crs_epsg4326_gives_every_geometry_latitude_first_with_its_content_crs()
    {
        await SeedAsync();
        var (status, page, response) = await fx.Client.OgcAsync(Items + "?crs=" + Epsg4326, Tenant);
        status.Should().Be(HttpStatusCode.OK);
        response.Headers.GetValues("Content-Crs").Single().Should().Be($"<{Ogc.Epsg4326}>");
        var feature = page.Features().Single();
        feature.Point().Should().Be((48.20849, 16.37208));
        feature["properties"]!["observationSpace"]!["coordinates"]!.ToJsonString().Should().Be("[[48,16],[49,17]]");
        page.LinkOf("self")!.OgcPath().Should().Contain("crs=");

        var (_, one, oneResponse) = await fx.Client.OgcAsync(Items + "/urn:ngsi-ld:FloodMonitoring:crs-1?crs=" + Epsg4326, Tenant);
        oneResponse.Headers.GetValues("Content-Crs").Single().Should().Be($"<{Ogc.Epsg4326}>");
        one.Point().Should().Be((48.20849, 16.37208));
    }

    [Fact]
    public async Task Crs_crs84_named_explicitly_is_the_default()
    {
        await SeedAsync();
        (await fx.Client.OgcOkAsync(Items + "?crs=" + Crs84, Tenant)).Features().Single().Point().Should().Be((16.37208, 48.20849));
    }

    [Fact]
    public async Task Bbox_crs_epsg4326_reads_the_box_latitude_first()
    {
        await SeedAsync();
        (await fx.Client.OgcOkAsync(Items + "?bbox=48.2,16.3,48.3,16.4&bbox-crs=" + Epsg4326, Tenant)).Features().Should().ContainSingle();
        (await fx.Client.OgcOkAsync(Items + "?bbox=16.3,48.2,16.4,48.3&bbox-crs=" + Crs84, Tenant)).Features().Should().ContainSingle();
        // The same numbers read latitude first are a box near the Horn of Africa.
        (await fx.Client.OgcOkAsync(Items + "?bbox=16.3,48.2,16.4,48.3&bbox-crs=" + Epsg4326, Tenant)).Features().Should().BeEmpty();
    }

    [Theory]
    [InlineData("crs=http%3A%2F%2Fwww.opengis.net%2Fdef%2Fcrs%2FEPSG%2F0%2F3857", "crs")]
    [InlineData("crs=EPSG%3A4326", "crs")]
    [InlineData("bbox=16,48,17,49&bbox-crs=http%3A%2F%2Fwww.opengis.net%2Fdef%2Fcrs%2FEPSG%2F0%2F25832", "bbox-crs")]
    [InlineData("bbox-crs=http%3A%2F%2Fwww.opengis.net%2Fdef%2Fcrs%2FEPSG%2F0%2F4326", "bbox-crs")]
    public async Task Unsupported_crs_or_bbox_crs_is_400_naming_the_parameter(string query, string parameter)
    {
        await SeedAsync();
        await fx.Client.ShouldBeOgcExceptionAsync(Items + "?" + query, Tenant, HttpStatusCode.BadRequest, parameter);
        await fx.Client.ShouldBeOgcExceptionAsync(Items + "/urn:ngsi-ld:FloodMonitoring:crs-1?crs=EPSG%3A4326", Tenant, HttpStatusCode.BadRequest, "crs");
    }
}
