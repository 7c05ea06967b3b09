using System.Globalization;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Query;

namespace Kontext.Broker.Ogc;

/// <summary>
/// The bbox parameter (/req/core/fc-bbox-definition, Part 2 bbox-crs): four numbers, or six with a vertical range,
/// lower corner first, in the axis order of bbox-crs. West larger than east is a box across the antimeridian.
/// It becomes an NGSI-LD geo-query "intersects" on the collection's geometry property, so the store pre-filters it on
/// its spatial index and the shared evaluator decides (one query engine).
/// </summary>
internal static class BboxParameter
{
    public static GeoQuery Parse(string text, Crs crs, string geometryAttribute)
    {
        var parts = text.Split(',');
        if (parts.Length is not (4 or 6))
            throw OgcException.InvalidParameter($"bbox '{text}' must be four numbers (or six with heights) separated by commas");
        var numbers = new double[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!double.TryParse(parts[i].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out numbers[i]) || !double.IsFinite(numbers[i]))
                throw OgcException.InvalidParameter($"bbox: '{parts[i]}' is not a number");
        }
        // Six numbers carry heights as the third and sixth; features are matched on their horizontal extent.
        var (a1, a2, b1, b2) = parts.Length == 4 ? (numbers[0], numbers[1], numbers[2], numbers[3]) : (numbers[0], numbers[1], numbers[3], numbers[4]);
        if (parts.Length == 6 && numbers[2] > numbers[5])
            throw OgcException.InvalidParameter("bbox: the lower height (third number) is above the upper one (sixth)");
        var (west, south, east, north) = crs.LatitudeFirst ? (a2, a1, b2, b1) : (a1, a2, b1, b2);
        if (south < -90 || north > 90 || south > north)
            throw OgcException.InvalidParameter($"bbox '{text}': latitudes must lie within -90..90 with the lower corner south of the upper one ({crs.Uri})");
        if (west < -180 || west > 180 || east < -180 || east > 180)
            throw OgcException.InvalidParameter($"bbox '{text}': longitudes must lie within -180..180 ({crs.Uri})");

        var boxes = west <= east ? new[] { (west, east) } : new[] { (west, 180.0), (-180.0, east) };
        var shapes = boxes.Where(b => b.Item1 < b.Item2 || boxes.Length == 1).Select(b => Shape(b.Item1, south, b.Item2, north)).ToList();
        if (shapes.Count == 0) shapes.Add(Shape(west, south, west, north)); // 180 to -180: the antimeridian itself
        var (type, coordinates) = shapes.Count == 1
            ? shapes[0]
            : ("Multi" + shapes[0].Type, new JsonArray(shapes.Select(s => (JsonNode)s.Coordinates).ToArray()));
        var geometry = new JsonObject { ["type"] = type, ["coordinates"] = coordinates.DeepClone() };
        return new GeoQuery(GeoRelation.Intersects, null, null, type, coordinates.ToJsonString(), geometryAttribute)
        {
            Geometry = GeoJsonGeometry.Read(geometry),
        };
    }

    /// <summary>A box as a Polygon; a box without width or height is a LineString, one without both a Point.</summary>
    private static (string Type, JsonArray Coordinates) Shape(double west, double south, double east, double north)
    {
        static JsonArray P(double x, double y) => new(x, y);
        if (west == east && south == north) return ("Point", P(west, south));
        if (west == east || south == north) return ("LineString", new JsonArray(P(west, south), P(east, north)));
        return ("Polygon", new JsonArray(new JsonArray(P(west, south), P(east, south), P(east, north), P(west, north), P(west, south))));
    }
}
