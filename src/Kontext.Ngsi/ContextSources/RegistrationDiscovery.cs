using Kontext.Ngsi.Errors;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;
using Kontext.Ngsi.Temporal;

namespace Kontext.Ngsi.ContextSources;

/// <summary>The raw URL parameters of Query Context Source Registrations (clause 6.8.3.1); null when absent.</summary>
public sealed record RegistrationQueryParameters(
    string? Type = null,
    string? Id = null,
    string? IdPattern = null,
    string? Attrs = null,
    string? Q = null,
    string? Csf = null,
    string? GeoRel = null,
    string? Geometry = null,
    string? Coordinates = null,
    string? GeoProperty = null,
    string? TimeRel = null,
    string? TimeAt = null,
    string? EndTimeAt = null,
    string? TimeProperty = null,
    string? ScopeQ = null);

/// <summary>Discovery (clause 5.10.2): the query parameters read into a <see cref="RegistrationFilter"/>.</summary>
public static class RegistrationDiscovery
{
    /// <summary>
    /// Parses and checks the parameters; each problem is BadRequestData. A query must select something: a type, attributes,
    /// entity ids or an id pattern, q or csf, a geo-query or a scope query (with none, clause 5.10.2 answers BadRequestData).
    /// </summary>
    public static RegistrationFilter Parse(RegistrationQueryParameters raw, JsonLdContext context)
    {
        var entities = EntityQuery.Parse(new EntityQueryParameters(raw.Type, raw.Id, raw.IdPattern, raw.Q, raw.ScopeQ,
            raw.GeoRel, raw.Geometry, raw.Coordinates, raw.GeoProperty), context);
        var attrs = Present(raw.Attrs) is { } attrText
            ? attrText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(a => EntityParser.ExpandAttributeName(a, context)).ToHashSet(StringComparer.Ordinal)
            : null;
        if (attrs is { Count: 0 }) attrs = null;
        var csf = Present(raw.Csf) is { } csfText ? QLanguage.Parse(csfText, context) : null;
        var temporal = TemporalQuery.Parse(raw.TimeRel, raw.TimeAt, raw.EndTimeAt, raw.TimeProperty, null);

        var selectsEntities = entities.Type is not null || entities.Ids is not null || entities.IdPattern is not null;
        if (!selectsEntities && attrs is null && entities.Q is null && csf is null && entities.Geo is null && entities.ScopeQ is null)
            throw NgsiException.BadRequestData("Query Context Source Registrations needs type, attrs, id, idPattern, q, csf, a geo-query or scopeQ");
        return new RegistrationFilter(
            selectsEntities ? [new EntitySpec(entities.Type, entities.Ids, entities.IdPattern)] : null,
            attrs, entities.Q, csf, entities.Geo, entities.ScopeQ, temporal.TimeRel is null ? null : temporal);
    }

    private static string? Present(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
