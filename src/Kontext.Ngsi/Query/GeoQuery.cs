using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using NetTopologySuite.Geometries;

namespace Kontext.Ngsi.Query;

public enum GeoRelation { Near, Within, Contains, Intersects, Equals, Disjoint, Overlaps }

/// <summary>
/// A geo-query (clause 4.10): the entity's <paramref name="GeoProperty"/> (expanded IRI) relates to the query geometry.
/// <paramref name="Coordinates"/> is the GeoJSON coordinates array as compact JSON text, so stores can hand the geometry
/// to their own engines; <see cref="Geometry"/> is the same geometry for in-memory evaluation. Distances are in metres.
/// </summary>
public sealed record GeoQuery(
    GeoRelation Relation,
    double? MaxDistance,
    double? MinDistance,
    string GeometryType,
    string Coordinates,
    string GeoProperty)
{
    public const string DefaultGeoProperty = "https://uri.etsi.org/ngsi-ld/location";

    public static readonly IReadOnlySet<string> QueryGeometryTypes = new HashSet<string>(StringComparer.Ordinal)
    {
        "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon",
    };

    /// <summary>The query geometry (WGS84 longitude/latitude), derived from <see cref="GeometryType"/> and <see cref="Coordinates"/>.</summary>
    public Geometry Geometry { get; init; } = null!;

    /// <summary>The GeoJSON geometry object (type + coordinates).</summary>
    public JsonObject ToGeoJson() => new() { ["type"] = GeometryType, ["coordinates"] = JsonNode.Parse(Coordinates) };

    /// <summary>Parses the georel, geometry, coordinates and geoproperty query parameters; all but geoproperty are required.</summary>
    public static GeoQuery Parse(string? georel, string? geometry, string? coordinates, string? geoproperty, JsonLdContext context)
    {
        if (georel is null || geometry is null || coordinates is null)
            throw NgsiException.BadRequestData("A geo-query needs all of georel, geometry and coordinates");
        var (relation, max, min) = ParseGeoRel(georel);
        if (!QueryGeometryTypes.Contains(geometry))
            throw NgsiException.BadRequestData($"geometry: '{geometry}' is not one of {string.Join(", ", QueryGeometryTypes)}");

        JsonNode? coordinatesNode;
        try { coordinatesNode = Formats.StrictJson.Parse(coordinates); }
        catch (NgsiException e) { throw NgsiException.BadRequestData($"coordinates: not a JSON array ({e.Error.Detail})"); }
        var geoJson = new JsonObject { ["type"] = geometry, ["coordinates"] = coordinatesNode };
        GeoJson.Check(geoJson, "coordinates");

        var property = string.IsNullOrWhiteSpace(geoproperty) ? DefaultGeoProperty : EntityParser.ExpandAttributeName(geoproperty, context);
        return new GeoQuery(relation, max, min, geometry, coordinatesNode!.ToJsonString(), property)
        {
            Geometry = GeoJsonGeometry.Read(geoJson),
        };
    }

    private static (GeoRelation, double?, double?) ParseGeoRel(string georel)
    {
        var parts = georel.Split(';');
        GeoRelation relation = parts[0] switch
        {
            "near" => GeoRelation.Near,
            "within" => GeoRelation.Within,
            "contains" => GeoRelation.Contains,
            "intersects" => GeoRelation.Intersects,
            "equals" => GeoRelation.Equals,
            "disjoint" => GeoRelation.Disjoint,
            "overlaps" => GeoRelation.Overlaps,
            _ => throw NgsiException.BadRequestData($"georel: unknown relation '{parts[0]}'"),
        };
        double? max = null, min = null;
        foreach (var modifier in parts.Skip(1))
        {
            if (relation != GeoRelation.Near) throw NgsiException.BadRequestData($"georel: '{parts[0]}' takes no modifier, found '{modifier}'");
            var eq = modifier.IndexOf("==", StringComparison.Ordinal);
            var name = eq < 0 ? modifier : modifier[..eq];
            // PositiveNumber (clause 4.10): finite, neither negative nor zero.
            if (eq < 0 || !double.TryParse(modifier[(eq + 2)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var distance)
                || !double.IsFinite(distance) || distance <= 0)
                throw NgsiException.BadRequestData($"georel: '{modifier}' must be maxDistance==N or minDistance==N with N > 0 metres");
            if (max is not null || min is not null)
                throw NgsiException.BadRequestData($"georel: 'near' takes one distance, maxDistance or minDistance; '{modifier}' is a second");
            switch (name)
            {
                case "maxDistance": max = distance; break;
                case "minDistance": min = distance; break;
                default: throw NgsiException.BadRequestData($"georel: unexpected modifier '{modifier}'");
            }
        }
        if (relation == GeoRelation.Near && max is null && min is null)
            throw NgsiException.BadRequestData("georel: 'near' needs maxDistance==N or minDistance==N");
        return (relation, max, min);
    }
}
