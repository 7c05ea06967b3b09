using Kontext.Ngsi.Model;
using System.Text.Json.Nodes;
using NetTopologySuite.Geometries;

namespace Kontext.Ngsi.Query;

/// <summary>
/// GeoJSON geometry (already validated by <see cref="Kontext.Ngsi.Model.GeoJson"/>) → NetTopologySuite geometry
/// in WGS84 longitude/latitude. A third (altitude) coordinate is ignored: NGSI-LD geo-queries are 2D.
/// </summary>
public static class GeoJsonGeometry
{
    public static readonly GeometryFactory Factory = new(new PrecisionModel(), 4326);

    /// <summary>
    /// The geometry, or null when the node is not a valid GeoJSON geometry. Stored GeoProperties were validated on the way
    /// in, but an evaluator must never fail a whole query because of one odd entity, so this validates again.
    /// </summary>
    public static Geometry? TryRead(JsonNode? node)
    {
        try
        {
            Kontext.Ngsi.Model.GeoJson.Check(node, "value");
            return Read(node);
        }
        catch (Exception e) when (e is Kontext.Ngsi.Errors.NgsiException or ArgumentException) { return null; }
    }

    public static Geometry Read(JsonNode? node)
    {
        var o = (JsonObject)node!;
        var type = o["type"]!.GetValue<string>();
        if (type == "GeometryCollection")
            return Factory.CreateGeometryCollection(o["geometries"]!.AsArray().Select(Read).ToArray());
        var c = o["coordinates"]!;
        return type switch
        {
            "Point" => Factory.CreatePoint(Position(c)),
            "MultiPoint" => Factory.CreateMultiPointFromCoords(Positions(c)),
            "LineString" => Factory.CreateLineString(Positions(c)),
            "MultiLineString" => Factory.CreateMultiLineString(c.AsArray().Select(l => Factory.CreateLineString(Positions(l))).ToArray()),
            "Polygon" => Polygon(c),
            "MultiPolygon" => Factory.CreateMultiPolygon(c.AsArray().Select(Polygon).ToArray()),
            _ => throw new ArgumentException($"unsupported geometry type '{type}'"),
        };
    }

    private static Polygon Polygon(JsonNode? rings)
    {
        var all = rings!.AsArray().Select(r => Factory.CreateLinearRing(Positions(r))).ToArray();
        return Factory.CreatePolygon(all[0], all[1..]);
    }

    private static Coordinate[] Positions(JsonNode? node) => node!.AsArray().Select(Position).ToArray();

    private static Coordinate Position(JsonNode? node)
    {
        var a = node!.AsArray();
        JsonNumbers.TryGetDouble(a[0], out var x);
        JsonNumbers.TryGetDouble(a[1], out var y);
        return new Coordinate(x, y);
    }
}
