using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;

namespace Kontext.Broker.Ogc;

/// <summary>
/// The temporal geometry of a feature, one definition for the datetime filter and the collection's temporal extent: the
/// instants its attributes were observed (each attribute's <c>observedAt</c>); for an entity that has no
/// <c>observedAt</c> at all, the instants its attributes last changed (<c>modifiedAt</c>). datetime selects the features
/// with at least one such instant in the interval. Every entity has attributes with modifiedAt, so every feature has
/// a temporal geometry.
/// </summary>
internal static class FeatureTime
{
    private const string ObservedAt = "observedAt";
    private const string ModifiedAt = "modifiedAt";

    /// <summary>
    /// The datetime filter as a q expression over the collection's attributes (expanded names), so the store and the
    /// evaluator subscriptions use decide it: no second query engine.
    /// </summary>
    public static QExpr Filter(DateTimeParameter when, IReadOnlyCollection<string> attributes)
    {
        var observedInside = Any(attributes.Select(a => Within(new QPath(a, new([ObservedAt]), EquatableArray<string>.Empty), when)));
        var neverObserved = new QAnd(new(attributes.Select(a => (QExpr)new QExists(new QPath(a, new([ObservedAt]), EquatableArray<string>.Empty), Negated: true))));
        var modifiedInside = Any(attributes.Select(a => Within(new QPath(a, new([ModifiedAt]), EquatableArray<string>.Empty), when)));
        return new QOr(new([observedInside, new QAnd(new([neverObserved, modifiedInside]))]));
    }

    /// <summary>The earliest and latest instant of the feature's temporal geometry, or null when it has none.</summary>
    public static (DateTimeOffset First, DateTimeOffset Last)? Span(Entity entity)
    {
        var observed = Instants(entity, ObservedAt).ToList();
        var instants = observed.Count > 0 ? observed : Instants(entity, ModifiedAt).ToList();
        return instants.Count == 0 ? null : (instants.Min(), instants.Max());
    }

    private static IEnumerable<DateTimeOffset> Instants(Entity entity, string member)
    {
        foreach (var instances in entity.Attributes.Values)
        foreach (var instance in instances)
        {
            if (instance[member] is System.Text.Json.Nodes.JsonValue value && value.TryGetValue<string>(out var text)
                && Validate.TryParseDateTime(text, out var instant, allowOffset: true))
                yield return instant;
        }
    }

    private static QExpr Any(IEnumerable<QExpr> operands) => new QOr(new(operands));

    /// <summary>One comparison per attribute instance (a range is one comparison), so both ends hold for the same instant.</summary>
    private static QExpr Within(QPath path, DateTimeParameter when) => (when.Start, when.End) switch
    {
        ({ } s, { } e) when s == e => new QComparison(path, QOp.Equal, new QDateTime(s)),
        ({ } s, { } e) => new QComparison(path, QOp.Equal, new QRange(new QDateTime(s), new QDateTime(e))),
        ({ } s, null) => new QComparison(path, QOp.GreaterOrEqual, new QDateTime(s)),
        (null, { } e) => new QComparison(path, QOp.LessOrEqual, new QDateTime(e)),
        _ => throw new ArgumentException("an interval needs a bounded end", nameof(when)),
    };
}
