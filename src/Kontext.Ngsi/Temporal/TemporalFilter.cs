using System.Text.Json.Nodes;
using Kontext.Ngsi.Formats;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;
using Kontext.Ngsi.Storage;

namespace Kontext.Ngsi.Temporal;

/// <summary>A span of time [From, To); a null bound is open.</summary>
public sealed record TemporalSpan(DateTimeOffset? From, DateTimeOffset? To)
{
    public bool Contains(DateTimeOffset t) => (From is not { } from || t >= from) && (To is not { } to || t < to);
}

/// <summary>
/// The filters of Query Temporal Evolution of Entities (clause 5.7.4.4) judged on the history rather than on the current
/// state: q and geoQ hold when the Attribute instances inside the temporal window satisfy them (every instance of the
/// window counts, as if each were an instance of the attribute: an out-of-window value never matches, an attribute
/// without instances in the window does not exist), and scopeQ holds while a Scope valid in the window matches
/// (clause 4.18: valid from the time it was set until replaced or removed).
/// </summary>
public static class TemporalFilter
{
    /// <summary>The attributes q and geoQ read.</summary>
    public static IReadOnlySet<string> ValueAttributes(EntityQuery query)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        if (query.Q is { } q) Collect(q, names);
        if (query.Geo is { } geo) names.Add(geo.GeoProperty);
        return names;
    }

    /// <summary>q and geoQ of <paramref name="query"/> over the window's instances of the entity (deletions are no values).</summary>
    public static bool MatchesValues(EntityQuery query, Entity head, IEnumerable<TemporalInstance> window)
    {
        if (query.Q is null && query.Geo is null) return true;
        var view = new Entity(head.Id) { Types = head.Types, Scopes = head.Scopes, CreatedAt = head.CreatedAt, ModifiedAt = head.ModifiedAt };
        foreach (var instance in window)
        {
            var record = instance.Record;
            if (record.Kind == AttributeChangeKind.Deleted || record.InstanceJson is null) continue;
            if (StoredJson.Parse(record.InstanceJson) is not JsonObject doc) continue;
            if (!view.Attributes.TryGetValue(record.Attribute, out var list)) view.Attributes[record.Attribute] = list = [];
            list.Add(doc);
        }
        return EntityMatcher.Matches(view, new EntityQuery(Q: query.Q, Geo: query.Geo));
    }

    /// <summary>
    /// The spans of <paramref name="window"/> in which a valid Scope of the entity satisfies <paramref name="scopeQ"/>;
    /// empty when none does. <paramref name="history"/> holds the Scope's instances in time order;
    /// without any, <paramref name="currentScopes"/> count as valid throughout (history written before scopes were kept).
    /// </summary>
    public static IReadOnlyList<TemporalSpan> ScopeSpans(ScopeExpr scopeQ, IReadOnlyList<TemporalInstance> history, IReadOnlyList<string>? currentScopes, TemporalQuery window)
    {
        var bounds = new TemporalSpan(window.From, window.To);
        if (history.Count == 0)
            return SelectorExpressions.Matches(scopeQ, currentScopes) ? [bounds] : [];
        var spans = new List<TemporalSpan>();
        for (var i = 0; i < history.Count; i++)
        {
            if (!SelectorExpressions.Matches(scopeQ, ScopeHistory.Scopes(history[i].Record))) continue;
            var valid = new TemporalSpan(history[i].Time, i + 1 < history.Count ? history[i + 1].Time : null);
            if (Intersect(valid, bounds) is { } span) spans.Add(span);
        }
        return spans;
    }

    private static TemporalSpan? Intersect(TemporalSpan a, TemporalSpan b)
    {
        var from = Later(a.From, b.From);
        var to = Earlier(a.To, b.To);
        return from is { } f && to is { } t && f >= t ? null : new TemporalSpan(from, to);
    }

    private static DateTimeOffset? Later(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a > b ? a : b;
    private static DateTimeOffset? Earlier(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a < b ? a : b;

    private static void Collect(QExpr expr, HashSet<string> names)
    {
        switch (expr)
        {
            case QAnd and: foreach (var o in and.Operands) Collect(o, names); break;
            case QOr or: foreach (var o in or.Operands) Collect(o, names); break;
            case QExists exists: names.Add(exists.Path.Attribute); break;
            case QComparison comparison: names.Add(comparison.Path.Attribute); break;
        }
    }
}
