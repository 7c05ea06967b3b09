using Kontext.Ngsi.Errors;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;
using NetTopologySuite.Geometries;

namespace Kontext.Ngsi.Tests.Query;

public class GeoQueryTests
{
    private static readonly JsonLdContext Core = ContextProcessor.Core;

    // Madrid: Puerta del Sol, Plaza Mayor (~340 m west-south-west), and an outline of Retiro park (~1.1 km east).
    private const string Sol = "[-3.7038,40.4168]";
    private const string PlazaMayor = "[-3.7074,40.4155]";
    private const string PalacioDeCristal = "[-3.6823,40.4138]";
    private const string Retiro = "[[[-3.6905,40.4200],[-3.6780,40.4200],[-3.6780,40.4080],[-3.6905,40.4080],[-3.6905,40.4200]]]";
    private const string RetiroEastHalf = "[[[-3.6840,40.4230],[-3.6700,40.4230],[-3.6700,40.4050],[-3.6840,40.4050],[-3.6840,40.4230]]]";

    private static Entity At(string geometryType, string coordinates, string attribute = "location") =>
        QEvaluatorTests.Entity("{\"id\": \"urn:x:1\", \"type\": \"Place\", \"" + attribute + "\": {\"type\": \"GeoProperty\", \"value\": {\"type\": \""
            + geometryType + "\", \"coordinates\": " + coordinates + "}}}");

    private static bool Matches(Entity e, string georel, string geometry, string coordinates, string? geoproperty = null) =>
        EntityMatcher.Matches(e, EntityQuery.Parse(new EntityQueryParameters(GeoRel: georel, Geometry: geometry, Coordinates: coordinates, GeoProperty: geoproperty), Core));

    [Fact]
    public void Haversine_distance_paris_london_is_about_344_km()
    {
        GeoEvaluator.Haversine(2.3522, 48.8566, -0.1276, 51.5072).Should().BeInRange(342_000, 345_000);
    }

    [Fact]
    public void Distance_to_a_polygon_is_to_its_nearest_edge()
    {
        var sol = new Point(-3.7038, 40.4168);
        var retiro = GeoJsonGeometry.Read(At("Polygon", Retiro).Attributes[GeoQuery.DefaultGeoProperty][0]["value"]);
        // Nearest edge is the western one at longitude -3.6905: 0.0133° of longitude at 40.4°N ≈ 1126 m.
        GeoEvaluator.DistanceMetres(sol, retiro).Should().BeApproximately(1126, 10);
        GeoEvaluator.DistanceMetres(new Point(-3.6823, 40.4138), retiro).Should().Be(0);
    }

    [Theory]
    [InlineData("near;maxDistance==400", true)]
    [InlineData("near;maxDistance==300", false)]
    [InlineData("near;minDistance==300", true)]
    [InlineData("near;minDistance==400", false)]
    public void Near_uses_metres_between_points(string georel, bool expected) =>
        Matches(At("Point", PlazaMayor), georel, "Point", Sol).Should().Be(expected);

    [Fact]
    public void Near_a_polygon_measures_to_its_edge()
    {
        Matches(At("Polygon", Retiro), "near;maxDistance==1200", "Point", Sol).Should().BeTrue();
        Matches(At("Polygon", Retiro), "near;maxDistance==1000", "Point", Sol).Should().BeFalse();
    }

    [Fact]
    public void Near_a_reference_polygon_or_line_measures_from_its_closest_point()
    {
        // Sol is ~1.1 km west of Retiro's western edge, and ~1.4 km from the edge's nearest corner.
        Matches(At("Point", Sol), "near;maxDistance==1200", "Polygon", Retiro).Should().BeTrue();
        Matches(At("Point", Sol), "near;maxDistance==1000", "Polygon", Retiro).Should().BeFalse();
        // A line from Plaza Mayor's latitude, far east and far west of Sol: Sol is ~150 m from it, not kilometres.
        Matches(At("Point", Sol), "near;maxDistance==300", "LineString", "[[-3.80,40.4155],[-3.60,40.4155]]").Should().BeTrue();
        Matches(At("Point", Sol), "near;minDistance==300", "LineString", "[[-3.80,40.4155],[-3.60,40.4155]]").Should().BeFalse();
    }

    [Fact]
    public void Equals_holds_for_the_same_self_intersecting_ring()
    {
        const string bowTie = "[[[0,0],[2,2],[2,0],[0,2],[0,0]]]";
        Matches(At("Polygon", bowTie), "equals", "Polygon", bowTie).Should().BeTrue();
        Matches(At("Polygon", bowTie), "equals", "Polygon", Retiro).Should().BeFalse();
    }

    [Fact]
    public void Within_and_disjoint_on_a_real_park()
    {
        Matches(At("Point", PalacioDeCristal), "within", "Polygon", Retiro).Should().BeTrue();
        Matches(At("Point", Sol), "within", "Polygon", Retiro).Should().BeFalse();
        Matches(At("Point", Sol), "disjoint", "Polygon", Retiro).Should().BeTrue();
    }

    [Fact]
    public void Contains_intersects_overlaps_equals()
    {
        var park = At("Polygon", Retiro);
        Matches(park, "contains", "Point", PalacioDeCristal).Should().BeTrue();
        Matches(park, "contains", "Point", Sol).Should().BeFalse();
        Matches(park, "intersects", "LineString", $"[{Sol},{PalacioDeCristal}]").Should().BeTrue();
        Matches(park, "overlaps", "Polygon", RetiroEastHalf).Should().BeTrue();
        Matches(park, "equals", "Polygon", Retiro).Should().BeTrue();
        Matches(park, "equals", "Polygon", RetiroEastHalf).Should().BeFalse();
    }

    [Fact]
    public void Geoproperty_other_than_location_is_expanded_and_used()
    {
        var e = At("Point", PalacioDeCristal, attribute: "entrance");
        Matches(e, "within", "Polygon", Retiro).Should().BeFalse();
        Matches(e, "within", "Polygon", Retiro, geoproperty: "entrance").Should().BeTrue();
    }

    [Fact]
    public void Geo_query_records_its_parts_for_stores()
    {
        var q = GeoQuery.Parse("near;maxDistance==2000", "Point", " [ -3.7038, 40.4168 ] ", null, Core);
        q.Should().BeEquivalentTo(new { Relation = GeoRelation.Near, MaxDistance = 2000.0, MinDistance = (double?)null, GeometryType = "Point", Coordinates = Sol, GeoProperty = "https://uri.etsi.org/ngsi-ld/location" });
    }

    [Theory]
    [InlineData("nearby", "Point", Sol, "unknown relation")]
    [InlineData("near", "Point", Sol, "needs maxDistance")]
    [InlineData("near;maxDistance==-1", "Point", Sol, "N > 0")]
    [InlineData("near;maxDistance==0", "Point", Sol, "N > 0")]
    [InlineData("near;maxDistance==1e400", "Point", Sol, "N > 0")]
    [InlineData("near;maxDistance=5", "Point", Sol, "maxDistance==N")]
    [InlineData("near;maxDistance==1;maxDistance==2", "Point", Sol, "takes one distance")]
    [InlineData("near;minDistance==300;maxDistance==400", "Point", Sol, "takes one distance")]
    [InlineData("near;within==1", "Point", Sol, "unexpected modifier")]
    [InlineData("within;maxDistance==1", "Polygon", Retiro, "takes no modifier")]
    [InlineData("within", "Circle", Sol, "is not one of")]
    [InlineData("within", "Point", "[1,2", "not a JSON array")]
    [InlineData("within", "Point", "[200,2]", "longitude")]
    [InlineData("within", "Polygon", "[[[0,0],[1,0],[1,1],[0,1]]]", "closed")]
    public void Invalid_geo_query_is_bad_request(string georel, string geometry, string coordinates, string messagePart)
    {
        var act = () => GeoQuery.Parse(georel, geometry, coordinates, null, Core);
        act.Should().Throw<NgsiException>().WithMessage($"*{messagePart}*");
    }

    [Fact]
    public void Incomplete_geo_query_is_bad_request()
    {
        var act = () => EntityQuery.Parse(new EntityQueryParameters(GeoRel: "within"), Core);
        act.Should().Throw<NgsiException>().WithMessage("*georel, geometry and coordinates*");
    }
}
