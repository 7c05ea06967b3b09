using System.Text.Json.Nodes;

namespace Kontext.Broker.Ogc;

/// <summary>
/// The coordinate reference systems the API offers (Part 2, CRS by reference). NGSI-LD stores GeoJSON, which is WGS 84
/// longitude/latitude (CRS84): that is the storage CRS and the default. EPSG:4326 is the same datum with the axes the
/// other way round (latitude, longitude), so serving it is an axis swap, never a reprojection.
/// </summary>
internal sealed record Crs(string Uri, bool LatitudeFirst)
{
    public static readonly Crs Crs84 = new("http://www.opengis.net/def/crs/OGC/1.3/CRS84", LatitudeFirst: false);
    public static readonly Crs Epsg4326 = new("http://www.opengis.net/def/crs/EPSG/0/4326", LatitudeFirst: true);

    public static readonly IReadOnlyList<Crs> Supported = [Crs84, Epsg4326];

    /// <summary>The CRS a crs or bbox-crs parameter names; CRS84 when absent; 400 for anything not in the list (/req/crs/fc-crs-valid-value).</summary>
    public static Crs Parse(string? value, string parameter)
    {
        if (value is null) return Crs84;
        return Supported.FirstOrDefault(c => c.Uri == value)
               ?? throw OgcException.InvalidParameter(
                   $"{parameter} '{value}' is not a supported CRS; use one of {string.Join(", ", Supported.Select(c => c.Uri))}");
    }

    /// <summary>The Content-Crs header value (/req/crs/ogc-crs-header-value): the URI in angle brackets.</summary>
    public string HeaderValue => $"<{Uri}>";

    /// <summary>A GeoJSON geometry in this CRS: a copy with every position's first two axes swapped when latitude comes first.</summary>
    public JsonNode? FromCrs84(JsonNode? geometry)
    {
        if (!LatitudeFirst || geometry is null) return geometry;
        var copy = geometry.DeepClone();
        SwapPositions(copy);
        return copy;
    }

    private static void SwapPositions(JsonNode node)
    {
        switch (node)
        {
            case JsonObject o:
                if (o["coordinates"] is { } coordinates) SwapPositions(coordinates);
                if (o["geometries"] is JsonArray geometries)
                    foreach (var g in geometries) if (g is not null) SwapPositions(g);
                break;
            case JsonArray a when a.Count >= 2 && a[0] is JsonValue && a[1] is JsonValue:
                (a[0], a[1]) = (a[1]!.DeepClone(), a[0]!.DeepClone());
                break;
            case JsonArray a:
                foreach (var item in a) if (item is not null) SwapPositions(item);
                break;
        }
    }
}
