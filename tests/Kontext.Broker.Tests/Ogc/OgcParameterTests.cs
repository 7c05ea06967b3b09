using System.Text.Json.Nodes;
using Kontext.Broker.Ogc;
using Kontext.Ngsi.Query;

namespace Kontext.Broker.Tests.Ogc;

/// <summary>The pure parts: bbox and datetime parsing (Part 1 syntax), the CRS axis swap, the feature-time semantics.</summary>
public sealed class OgcParameterTests
{
    private const string Location = "https://uri.etsi.org/ngsi-ld/location";

    [Fact]
    public void Bbox_of_four_numbers_is_an_intersects_query_with_a_polygon_on_the_geometry_property()
    {
        var geo = BboxParameter.Parse("16.1,48.1,16.5,48.3", Crs.Crs84, Location);
        geo.Relation.Should().Be(GeoRelation.Intersects);
        geo.GeoProperty.Should().Be(Location);
        geo.GeometryType.Should().Be("Polygon");
        geo.Geometry.EnvelopeInternal.MinX.Should().Be(16.1);
        geo.Geometry.EnvelopeInternal.MaxY.Should().Be(48.3);
    }

    [Fact]
    public void Bbox_in_epsg4326_is_read_latitude_first()
    {
        var envelope = BboxParameter.Parse("48.1,16.1,48.3,16.5", Crs.Epsg4326, Location).Geometry.EnvelopeInternal;
        (envelope.MinX, envelope.MinY, envelope.MaxX, envelope.MaxY).Should().Be((16.1, 48.1, 16.5, 48.3));
    }

    [Fact]
    public void Bbox_across_the_antimeridian_is_two_boxes()
    {
        var geo = BboxParameter.Parse("170,-20,-170,-10", Crs.Crs84, Location);
        geo.GeometryType.Should().Be("MultiPolygon");
        geo.Geometry.NumGeometries.Should().Be(2);
    }

    [Theory]
    [InlineData("16,48,16,48", "Point")]
    [InlineData("16,48,16,49", "LineString")]
    [InlineData("16,48,17,48", "LineString")]
    public void Bbox_without_area_is_a_point_or_a_line(string bbox, string type)
    {
        BboxParameter.Parse(bbox, Crs.Crs84, Location).GeometryType.Should().Be(type);
    }

    [Theory]
    [InlineData("1,2,3")]
    [InlineData("1,2,3,4,5")]
    [InlineData("1,2,3,NaN")]
    [InlineData("1,2,3,Infinity")]
    [InlineData("0,-91,1,0")]
    [InlineData("0,10,1,5")]
    [InlineData("181,0,182,1")]
    [InlineData("0,0,0,1,1,-1")]
    public void Bbox_that_is_not_a_box_is_invalid(string bbox)
    {
        var parse = () => BboxParameter.Parse(bbox, Crs.Crs84, Location);
        parse.Should().Throw<OgcException>().Where(e => e.Status == 400 && e.Code == "InvalidParameterValue");
    }

    [Theory]
    [InlineData("2025-05-20T08:00:00Z", "2025-05-20T08:00:00Z", "2025-05-20T08:00:00Z")]
    [InlineData("2025-05-20T08:00:00Z/2025-05-21T08:00:00Z", "2025-05-20T08:00:00Z", "2025-05-21T08:00:00Z")]
    [InlineData("2025-05-20T08:00:00Z/..", "2025-05-20T08:00:00Z", null)]
    [InlineData("2025-05-20T08:00:00Z/", "2025-05-20T08:00:00Z", null)]
    [InlineData("../2025-05-20T08:00:00Z", null, "2025-05-20T08:00:00Z")]
    [InlineData("/2025-05-20T08:00:00Z", null, "2025-05-20T08:00:00Z")]
    [InlineData("2025-05-20T10:00:00+02:00", "2025-05-20T08:00:00Z", "2025-05-20T08:00:00Z")]
    public void Datetime_is_an_instant_or_a_half_or_fully_bounded_interval(string text, string? start, string? end)
    {
        var parsed = DateTimeParameter.Parse(text);
        parsed.Start.Should().Be(start is null ? null : DateTimeOffset.Parse(start));
        parsed.End.Should().Be(end is null ? null : DateTimeOffset.Parse(end));
    }

    [Theory]
    [InlineData("")]
    [InlineData("2025-05-20")]
    [InlineData("2025-05-20T08:00:00")]
    [InlineData("../..")]
    [InlineData("/")]
    [InlineData("a/b")]
    [InlineData("2025-05-21T00:00:00Z/2025-05-20T00:00:00Z")]
    public void Datetime_outside_the_rfc_3339_grammar_is_invalid(string text)
    {
        var parse = () => DateTimeParameter.Parse(text);
        parse.Should().Throw<OgcException>().Where(e => e.Status == 400);
    }

    [Fact]
    public void Epsg4326_swaps_the_axes_of_every_position_and_crs84_leaves_them()
    {
        var polygon = JsonNode.Parse("""{"type":"MultiPoint","coordinates":[[16.1,48.2],[16.3,48.4,120]]}""");
        Crs.Epsg4326.FromCrs84(polygon)!["coordinates"]!.ToJsonString().Should().Be("[[48.2,16.1],[48.4,16.3,120]]");
        Crs.Crs84.FromCrs84(polygon).Should().BeSameAs(polygon);
        polygon!["coordinates"]!.ToJsonString().Should().Be("[[16.1,48.2],[16.3,48.4,120]]", "the stored geometry is not changed");
        var collection = JsonNode.Parse("""{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2]}]}""");
        Crs.Epsg4326.FromCrs84(collection)!["geometries"]![0]!["coordinates"]!.ToJsonString().Should().Be("[2,1]");
    }

    [Fact]
    public void Feature_time_is_the_observations_or_without_them_the_modifications()
    {
        var observed = new Kontext.Ngsi.Model.Entity("urn:x:1");
        observed.Attributes["a"] = [new JsonObject { ["type"] = "Property", ["value"] = 1, ["observedAt"] = "2025-05-20T08:00:00Z", ["modifiedAt"] = "2026-01-01T00:00:00Z" }];
        observed.Attributes["b"] = [new JsonObject { ["type"] = "Property", ["value"] = 1, ["observedAt"] = "2025-05-21T08:00:00Z", ["modifiedAt"] = "2026-01-01T00:00:00Z" }];
        observed.Attributes["c"] = [new JsonObject { ["type"] = "Property", ["value"] = 1, ["modifiedAt"] = "2026-01-01T00:00:00Z" }];
        FeatureTime.Span(observed).Should().Be((DateTimeOffset.Parse("2025-05-20T08:00:00Z"), DateTimeOffset.Parse("2025-05-21T08:00:00Z")));
        var filter = FeatureTime.Filter(DateTimeParameter.Parse("2026-01-01T00:00:00Z"), ["a", "b", "c"]);
        QEvaluator.Evaluate(filter, observed).Should().BeFalse("an observed entity is placed in time by its observations");
        QEvaluator.Evaluate(FeatureTime.Filter(DateTimeParameter.Parse("2025-05-21T00:00:00Z/.."), ["a", "b", "c"]), observed).Should().BeTrue();

        var unobserved = new Kontext.Ngsi.Model.Entity("urn:x:2");
        unobserved.Attributes["c"] = [new JsonObject { ["type"] = "Property", ["value"] = 1, ["modifiedAt"] = "2026-01-01T00:00:00Z" }];
        FeatureTime.Span(unobserved).Should().Be((DateTimeOffset.Parse("2026-01-01T00:00:00Z"), DateTimeOffset.Parse("2026-01-01T00:00:00Z")));
        QEvaluator.Evaluate(filter, unobserved).Should().BeTrue();
    }
}
