using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using NetTopologySuite.Geometries;

namespace Kontext.Ngsi.Query;

/// <summary>How one orderBy term sorts: by value (asc/desc) or by distance from a reference geometry (dist-asc/dist-desc).</summary>
public enum OrderDirection { Ascending, Descending, DistanceAscending, DistanceDescending }

/// <summary>
/// One orderBy term (clause 4.23): an entity member (id, type, createdAt, modifiedAt) or an attribute path in the q
/// syntax (name, name.subProperty, name.observedAt, address[city]).
/// </summary>
public sealed record OrderTerm(string? Member, QPath? Path, OrderDirection Direction)
{
    public bool ByDistance => Direction is OrderDirection.DistanceAscending or OrderDirection.DistanceDescending;
}

/// <summary>
/// Entity ordering (clause 4.23): terms applied in turn, a stable sort (ties keep the store's creation order). Values of
/// different kinds rank numbers, then strings, then booleans, then other JSON, and entities without the value come last
/// whatever the direction (4.23.2). Strings compare by code point, or with the given collation (an IETF BCP 47 tag, ICU
/// rules, 4.23.3). Distances are in metres from <see cref="From"/>.
/// </summary>
public sealed partial record EntityOrdering(EquatableArray<OrderTerm> Terms, Geometry? From, CompareInfo? Collation)
{
    private static readonly HashSet<string> EntityMembers = new(StringComparer.Ordinal) { "id", "type", "createdAt", "modifiedAt" };

    [GeneratedRegex(@"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$", RegexOptions.CultureInvariant)]
    private static partial Regex LanguageTag();

    /// <summary>
    /// Parses orderBy (terms separated by ',', each "path[;asc|;desc|;dist-asc|;dist-desc]"), the distance reference
    /// (coordinates as JSON text, with its geometry type; the type follows from the nesting when absent) and the collation.
    /// Every problem is BadRequestData.
    /// </summary>
    public static EntityOrdering Parse(IEnumerable<string> orderBy, string? coordinates, string? geometry, string? collation, JsonLdContext context)
    {
        var terms = new List<OrderTerm>();
        foreach (var text in orderBy)
        {
            if (string.IsNullOrWhiteSpace(text)) throw NgsiException.BadRequestData("orderBy: an empty term");
            var parts = text.Split(';', StringSplitOptions.TrimEntries);
            if (parts.Length > 2) throw NgsiException.BadRequestData($"orderBy: '{text}' has more than one direction");
            var direction = parts.Length == 1 ? OrderDirection.Ascending : parts[1] switch
            {
                "asc" => OrderDirection.Ascending,
                "desc" => OrderDirection.Descending,
                "dist-asc" => OrderDirection.DistanceAscending,
                "dist-desc" => OrderDirection.DistanceDescending,
                _ => throw NgsiException.BadRequestData($"orderBy: '{parts[1]}' is not asc, desc, dist-asc or dist-desc"),
            };
            terms.Add(EntityMembers.Contains(parts[0]) ? new OrderTerm(parts[0], null, direction) : new OrderTerm(null, ParsePath(parts[0]), direction));
        }
        if (terms.Count == 0) throw NgsiException.BadRequestData("orderBy: no term");
        if (terms.Any(t => t.ByDistance && t.Path is null)) throw NgsiException.BadRequestData("orderBy: distance ordering needs a GeoProperty");
        Geometry? from = null;
        if (terms.Any(t => t.ByDistance))
        {
            if (string.IsNullOrWhiteSpace(coordinates))
                throw NgsiException.BadRequestData("orderBy: ordering by distance needs the reference coordinates (orderFrom)");
            from = ReadReference(coordinates, geometry);
        }
        return new EntityOrdering(new(terms), from, ParseCollation(collation));

        QPath ParsePath(string text)
        {
            QExpr expr;
            try { expr = QLanguage.Parse(text, context); }
            catch (NgsiException e) { throw NgsiException.BadRequestData($"orderBy: '{text}' is not an attribute path ({e.Error.Detail})"); }
            return expr is QExists { Negated: false, Path: { Linked: null } path } ? path
                : throw NgsiException.BadRequestData($"orderBy: '{text}' is not an attribute path");
        }
    }

    private static Geometry ReadReference(string coordinates, string? geometry)
    {
        JsonNode? node;
        try { node = Formats.StrictJson.Parse(coordinates); }
        catch (NgsiException) { throw NgsiException.BadRequestData("orderFrom: the coordinates are not a JSON array"); }
        if (node is not JsonArray array) throw NgsiException.BadRequestData("orderFrom: the coordinates are not a JSON array");
        geometry ??= Depth(array) switch { 1 => "Point", 2 => "LineString", 3 => "Polygon", _ => "MultiPolygon" };
        if (!GeoQuery.QueryGeometryTypes.Contains(geometry))
            throw NgsiException.BadRequestData($"geometry: '{geometry}' is not one of {string.Join(", ", GeoQuery.QueryGeometryTypes)}");
        var geoJson = new JsonObject { ["type"] = geometry, ["coordinates"] = array.DeepClone() };
        GeoJson.Check(geoJson, "orderFrom");
        return GeoJsonGeometry.Read(geoJson);

        static int Depth(JsonNode? n) => n is JsonArray a && a.Count > 0 ? 1 + Depth(a[0]) : 0;
    }

    /// <summary>An IETF BCP 47 tag naming an ICU collation ("und" for the root collation); anything else is BadRequestData.</summary>
    public static CompareInfo? ParseCollation(string? collation)
    {
        if (collation is null) return null;
        if (!LanguageTag().IsMatch(collation)) throw NgsiException.BadRequestData($"collation: '{collation}' is not a BCP 47 language tag");
        try
        {
            return collation == "und" ? CultureInfo.InvariantCulture.CompareInfo : CultureInfo.GetCultureInfo(collation).CompareInfo;
        }
        catch (CultureNotFoundException)
        {
            throw NgsiException.BadRequestData($"collation: no collation is known for '{collation}'");
        }
    }

    /// <summary>Sorts the entities (a stable sort: equal ones keep their order).</summary>
    public IReadOnlyList<Entity> Sort(IEnumerable<Entity> entities)
    {
        var keyed = entities.Select(e => (Entity: e, Keys: Terms.Select(t => Key(e, t)).ToArray())).ToList();
        return keyed.Order(Comparer<(Entity Entity, SortKey[] Keys)>.Create((a, b) => Compare(a.Keys, b.Keys))).Select(k => k.Entity).ToList();
    }

    /// <summary>A value to sort by: its kind rank (absent last), a number, a string or other JSON text.</summary>
    private readonly record struct SortKey(int Rank, double Number, string? Text);

    private const int Absent = 4;

    private SortKey Key(Entity entity, OrderTerm term)
    {
        if (term.ByDistance)
        {
            var geometry = QEvaluator.OrderingValue(entity, term.Path!) is { } node ? GeoJsonGeometry.TryRead(node) : null;
            return geometry is null ? new SortKey(Absent, 0, null) : new SortKey(0, GeoEvaluator.DistanceMetres(From!, geometry), null);
        }
        JsonNode? value = term.Member switch
        {
            "id" => JsonValue.Create(entity.Id),
            "type" => entity.Types.Count == 0 ? null : JsonValue.Create(entity.Types[0]),
            "createdAt" => JsonValue.Create(Validate.Format(entity.CreatedAt)),
            "modifiedAt" => JsonValue.Create(Validate.Format(entity.ModifiedAt)),
            _ => QEvaluator.OrderingValue(entity, term.Path!),
        };
        return value switch
        {
            null => new SortKey(Absent, 0, null),
            JsonValue v when v.GetValueKind() == JsonValueKind.Number && JsonNumbers.TryGetDouble(v, out var d) => new SortKey(0, d, null),
            JsonValue v when v.GetValueKind() == JsonValueKind.String => new SortKey(1, 0, v.GetValue<string>()),
            JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => new SortKey(2, v.GetValue<bool>() ? 1 : 0, null),
            _ => new SortKey(3, 0, value.ToJsonString()),
        };
    }

    private int Compare(SortKey[] a, SortKey[] b)
    {
        for (var i = 0; i < Terms.Count; i++)
        {
            int c;
            if (a[i].Rank == Absent || b[i].Rank == Absent) c = a[i].Rank.CompareTo(b[i].Rank); // absent last either way
            else
            {
                c = a[i].Rank != b[i].Rank ? a[i].Rank.CompareTo(b[i].Rank)
                    : a[i].Text is not null ? CompareText(a[i].Text!, b[i].Text!)
                    : a[i].Number.CompareTo(b[i].Number);
                if (Terms[i].Direction is OrderDirection.Descending or OrderDirection.DistanceDescending) c = -c;
            }
            if (c != 0) return c;
        }
        return 0;
    }

    private int CompareText(string a, string b) => Collation is null ? string.CompareOrdinal(a, b) : Collation.Compare(a, b, CompareOptions.None);
}
