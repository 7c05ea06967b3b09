using System.Globalization;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Ogc;

/// <summary>
/// GET /collections/{id}/items parameters turned into one storage-port page request (D3: the store pushes down what it
/// can, the shared evaluator decides): the type and geometry property select the collection, bbox becomes a geo-query,
/// datetime and property=value filters a q expression.
/// </summary>
internal sealed record ItemsQuery(EntityPageRequest Page, Crs Crs)
{
    /// <summary>The parameters of the operation besides the per-collection property names.</summary>
    public static readonly IReadOnlyList<string> FixedParameters = ["limit", "offset", "bbox", "bbox-crs", "datetime", "crs"];

    public static ItemsQuery Read(OgcRequest request, FeatureCollectionInfo collection)
    {
        var options = request.Options;
        var limit = Integer(request.Single("limit"), "limit", minimum: 1) is { } l ? Math.Min(l, options.MaxLimit) : options.DefaultLimit;
        var offset = Integer(request.Single("offset"), "offset", minimum: 0) ?? 0;
        var crs = Crs.Parse(request.Single("crs"), "crs");
        var bboxCrsText = request.Single("bbox-crs");
        var bboxCrs = Crs.Parse(bboxCrsText, "bbox-crs");
        var bboxText = request.Single("bbox");
        if (bboxText is null && bboxCrsText is not null) throw OgcException.InvalidParameter("bbox-crs is given without a bbox");
        var geo = bboxText is null ? null : BboxParameter.Parse(bboxText, bboxCrs, collection.GeometryAttribute);

        var conditions = new List<QExpr>();
        if (request.Single("datetime") is { } datetime)
            conditions.Add(FeatureTime.Filter(DateTimeParameter.Parse(datetime), collection.Attributes));
        foreach (var (name, values) in request.Http.Request.Query.Where(p => !FixedParameters.Contains(p.Key) && p.Key != "f"))
        {
            if (!collection.Properties.TryGetValue(name, out var attribute))
                throw OgcException.UnknownParameter(name, $"GET /collections/{collection.Id}/items");
            conditions.Add(PropertyEquals(attribute, values.Select(v => v ?? ""), collection));
        }
        var q = conditions.Count switch { 0 => null, 1 => conditions[0], _ => new QAnd(new(conditions)) };
        var query = new EntityQuery(Type: new TypeIs(collection.TypeIri), Q: q, Geo: geo);
        var anyOf = new HashSet<string>(StringComparer.Ordinal) { collection.GeometryAttribute };
        return new ItemsQuery(new EntityPageRequest(query, offset, limit, Count: true, anyOf), crs);
    }

    /// <summary>
    /// name=value: the property equals the value read as any type it can be (number, boolean, date-time, text), because
    /// a URL does not say which; several values (name=a&amp;name=b) match any of them.
    /// </summary>
    private static QExpr PropertyEquals(string attribute, IEnumerable<string> values, FeatureCollectionInfo collection)
    {
        var literals = new List<QLiteral>();
        foreach (var value in values)
        {
            if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number))
                literals.Add(new QNumber(number));
            if (value is "true" or "false") literals.Add(new QBoolean(value == "true"));
            if (Validate.TryParseDateTime(value, out var instant, allowOffset: true)) literals.Add(new QDateTime(instant));
            literals.Add(new QString(value, collection.Context.ExpandTerm(value)));
        }
        return new QComparison(new QPath(attribute), QOp.Equal, new QValueList(new(literals)));
    }

    private static int? Integer(string? text, string name, int minimum)
    {
        if (text is null) return null;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < minimum)
        {
            // A limit larger than int is still just "more than the maximum" (/req/core/fc-limit-response-1 C).
            if (name == "limit" && text.Length > 0 && text.All(char.IsAsciiDigit) && text.TrimStart('0').Length > 0) return int.MaxValue;
            throw OgcException.InvalidParameter($"{name} '{text}' must be an integer of at least {minimum}");
        }
        return value;
    }
}
