using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;
using NetTopologySuite.Geometries;

namespace Kontext.Ngsi.Tests.Query;

/// <summary>
/// The evaluator at the antimeridian and the poles: distances are great-circle, so the line at ±180° and the meridians'
/// meeting at a pole are no edge for near; geometries are read as planar longitude/latitude (RFC 7946 §3.1.9 asks for
/// those that cross the antimeridian to be cut in two), so an uncut one goes the long way round, for every relation.
/// </summary>
public class GeoEdgeOfTheWorldTests
{
    private static Entity At(string geometryType, string coordinates) =>
        QEvaluatorTests.Entity("{\"id\": \"urn:x:1\", \"type\": \"Place\", \"location\": {\"type\": \"GeoProperty\", \"value\": {\"type\": \""
            + geometryType + "\", \"coordinates\": " + coordinates + "}}}");

    private static bool Matches(Entity e, string georel, string geometry, string coordinates) =>
        EntityMatcher.Matches(e, EntityQuery.Parse(new EntityQueryParameters(GeoRel: georel, Geometry: geometry, Coordinates: coordinates), ContextProcessor.Core));

    [Theory]
    [InlineData("[179.9990,10]", "[-179.9995,10]")]  // ~164 m apart across the antimeridian
    [InlineData("[-179.9995,10]", "[179.9990,10]")]
    [InlineData("[180,10]", "[-179.9990,10]")]       // ±180 is one meridian
    [InlineData("[45,89.999]", "[-135,89.999]")]     // opposite meridians, ~222 m apart over the North Pole
    [InlineData("[0,-89.999]", "[180,-89.999]")]
    [InlineData("[10,90]", "[-170,89.997]")]         // the pole itself, whatever its longitude
    public void Near_measures_across_the_antimeridian_and_over_the_poles(string reference, string entity)
    {
        Matches(At("Point", entity), "near;maxDistance==500", "Point", reference).Should().BeTrue();
        Matches(At("Point", entity), "near;minDistance==500", "Point", reference).Should().BeFalse();
        Matches(At("Point", entity), "near;maxDistance==100", "Point", reference).Should().BeFalse();
        Matches(At("Point", entity), "near;minDistance==100", "Point", reference).Should().BeTrue();
    }

    [Fact]
    public void Near_measures_to_a_polygon_or_a_line_on_the_other_side_of_the_antimeridian()
    {
        // The polygon's western edge is at -179.9990, 0.0020° (~219 m at 10°N) east of the point.
        const string polygon = "[[[-179.9990,9.99],[-179.99,9.99],[-179.99,10.01],[-179.9990,10.01],[-179.9990,9.99]]]";
        GeoEvaluator.DistanceMetres(new Point(179.9990, 10), GeoJsonGeometry.Read(At("Polygon", polygon).Attributes[GeoQuery.DefaultGeoProperty][0]["value"]))
            .Should().BeApproximately(219, 2);
        Matches(At("Polygon", polygon), "near;maxDistance==300", "Point", "[179.9990,10]").Should().BeTrue();
        Matches(At("Polygon", polygon), "near;maxDistance==200", "Point", "[179.9990,10]").Should().BeFalse();
        // A reference line west of the line, the entity's polygon east of it: measured between their nearest points.
        Matches(At("Polygon", polygon), "near;maxDistance==300", "LineString", "[[179.99,10],[179.9990,10]]").Should().BeTrue();
        Matches(At("Polygon", polygon), "near;maxDistance==200", "LineString", "[[179.99,10],[179.9990,10]]").Should().BeFalse();
        Matches(At("LineString", "[[179.99,10],[179.9990,10]]"), "near;maxDistance==300", "Polygon", polygon).Should().BeTrue();
    }

    [Fact]
    public void An_uncut_geometry_across_the_antimeridian_goes_the_long_way_round_for_every_relation()
    {
        // Planar, this line runs from 179.9°E west through Greenwich to 179.9°W: 0.2° of it would be its short way.
        var line = At("LineString", "[[179.9,10],[-179.9,10]]");
        Matches(line, "intersects", "Polygon", "[[[-1,9],[1,9],[1,11],[-1,11],[-1,9]]]").Should().BeTrue();
        Matches(line, "near;maxDistance==500", "Point", "[0,10]").Should().BeTrue();
        Matches(line, "intersects", "Polygon", "[[[179.94,9],[179.96,9],[179.96,11],[179.94,11],[179.94,9]]]").Should().BeFalse();
        Matches(line, "near;maxDistance==500", "Point", "[179.95,10]").Should().BeFalse("the line's nearest point there is its end at 179.9°E, ~5.5 km away");
        Matches(line, "near;maxDistance==6000", "Point", "[179.95,10]").Should().BeTrue();
        // The same for an uncut query polygon: a band from 179°W east through Greenwich to 179°E.
        const string band = "[[[179,9],[-179,9],[-179,11],[179,11],[179,9]]]";
        Matches(At("Point", "[0,10]"), "within", "Polygon", band).Should().BeTrue();
        Matches(At("Point", "[179.5,10]"), "within", "Polygon", band).Should().BeFalse();
        Matches(At("Point", "[179.5,10]"), "disjoint", "Polygon", band).Should().BeTrue();
    }
}
