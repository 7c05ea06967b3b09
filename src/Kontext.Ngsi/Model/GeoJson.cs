using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Errors;

namespace Kontext.Ngsi.Model;

/// <summary>Structural validation of GeoJSON geometries (RFC 7946) as GeoProperty values.</summary>
public static class GeoJson
{
    public static readonly HashSet<string> GeometryTypes = new(StringComparer.Ordinal)
    {
        "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection",
    };

    /// <summary>True when the node has the shape of a GeoJSON geometry (used to read concise GeoProperties).</summary>
    public static bool LooksLikeGeometry(JsonNode? node) =>
        node is JsonObject o && o[TypeMember] is JsonValue t && t.TryGetValue<string>(out var type) && GeometryTypes.Contains(type)
        && (o.ContainsKey(CoordinatesMember) || o.ContainsKey(GeometriesMember));

    /// <summary><see cref="LooksLikeGeometry(JsonNode?)"/> of a parsed element, without a string of its type.</summary>
    public static bool LooksLikeGeometry(JsonElement element) => LooksLikeGeometry(new ParsedJson(element));

    /// <summary><see cref="LooksLikeGeometry(JsonNode?)"/> of a stored element, read where it stands in its document (not parsed).</summary>
    public static bool LooksLikeGeometry(StoredElement element) => LooksLikeGeometry<StoredElement>(element);

    /// <summary>The rule of both, once: a "type" string naming a geometry type, and "coordinates" or "geometries".</summary>
    private static bool LooksLikeGeometry<TJson>(TJson value) where TJson : struct, IJsonView<TJson>
    {
        if (value.Kind != JsonValueKind.Object || !value.TryGetMember(Utf8Names.Type, out var type) || type.Kind != JsonValueKind.String)
            return false;
        foreach (var name in Utf8Names.GeometryTypes)
            if (type.ValueEquals(name)) return value.TryGetMember(Utf8Names.Coordinates, out _) || value.TryGetMember(Utf8Names.Geometries, out _);
        return false;
    }

    private const string TypeMember = "type";
    private const string CoordinatesMember = "coordinates";
    private const string GeometriesMember = "geometries";

    /// <summary>The names <see cref="LooksLikeGeometry{TJson}(TJson)"/> compares, as UTF-8.</summary>
    private static class Utf8Names
    {
        public static readonly byte[] Type = Encoding.UTF8.GetBytes(TypeMember);
        public static readonly byte[] Coordinates = Encoding.UTF8.GetBytes(CoordinatesMember);
        public static readonly byte[] Geometries = Encoding.UTF8.GetBytes(GeometriesMember);
        public static readonly byte[][] GeometryTypes = [.. GeoJson.GeometryTypes.Select(Encoding.UTF8.GetBytes)];
    }

    public static void Check(JsonNode? node, string attribute)
    {
        var error = Problem(node, 0);
        if (error is not null) throw NgsiException.BadRequestData($"Invalid GeoJSON geometry in '{attribute}': {error}");
    }

    private static string? Problem(JsonNode? node, int depth)
    {
        if (node is not JsonObject o) return "a geometry must be a JSON object";
        if (o["type"] is not JsonValue tv || !tv.TryGetValue<string>(out var type) || !GeometryTypes.Contains(type))
            return "'type' must be one of " + string.Join(", ", GeometryTypes);
        if (type == "GeometryCollection")
        {
            if (depth > 0) return "nested GeometryCollections are not allowed";
            if (o["geometries"] is not JsonArray geometries) return "a GeometryCollection needs a 'geometries' array";
            return geometries.Select(g => Problem(g, depth + 1)).FirstOrDefault(p => p is not null);
        }
        var c = o["coordinates"];
        if (c is null) return "'coordinates' is missing";
        return type switch
        {
            "Point" => Position(c),
            "MultiPoint" => Array(c, 1, Position),
            "LineString" => Line(c),
            "MultiLineString" => Array(c, 1, Line),
            "Polygon" => Polygon(c),
            "MultiPolygon" => Array(c, 1, Polygon),
            _ => "unsupported geometry",
        };
    }

    private static string? Array(JsonNode node, int min, Func<JsonNode, string?> each)
    {
        if (node is not JsonArray a || a.Count < min) return $"expected an array of at least {min} element(s)";
        foreach (var item in a)
        {
            if (item is null) return "null inside coordinates";
            var p = each(item);
            if (p is not null) return p;
        }
        return null;
    }

    private static string? Line(JsonNode node) => Array(node, 2, Position);

    private static string? Polygon(JsonNode node) => Array(node, 1, ring =>
    {
        var p = Array(ring, 4, Position);
        if (p is not null) return "a polygon ring needs at least 4 positions: " + p;
        var r = (JsonArray)ring;
        return JsonNode.DeepEquals(r[0], r[^1]) ? null : "a polygon ring must be closed (first position equals last)";
    });

    private static string? Position(JsonNode node)
    {
        if (node is not JsonArray a || a.Count is < 2 or > 3) return "a position is an array of 2 or 3 numbers";
        var numbers = new double[a.Count];
        for (var i = 0; i < a.Count; i++)
        {
            if (!JsonNumbers.TryGetDouble(a[i], out numbers[i]) || !double.IsFinite(numbers[i]))
                return "a position is an array of 2 or 3 numbers";
        }
        if (numbers[0] is < -180 or > 180) return $"longitude {numbers[0]} is outside [-180, 180]";
        if (numbers[1] is < -90 or > 90) return $"latitude {numbers[1]} is outside [-90, 90]";
        return null;
    }
}
