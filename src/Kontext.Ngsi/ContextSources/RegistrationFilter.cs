using System.Text.Json.Nodes;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;
using Kontext.Ngsi.Temporal;
using Kontext.Ngsi.Storage;

namespace Kontext.Ngsi.ContextSources;

/// <summary>
/// Which registrations a discovery query (clause 5.10.2), a registration subscription (5.11) or a distributed operation
/// (4.3.6) is about. Every given part must hold. Entity and attribute selection follows the matching algorithm of
/// clause 5.10.2 (TS 104 175 clause 9.4.2): some RegistrationInfo of the registration must match both the entity
/// specification (through one of its EntityInfos; a RegistrationInfo without entities covers every entity) and the
/// attributes (a RegistrationInfo naming none covers every attribute).
/// </summary>
public sealed record RegistrationFilter(
    IReadOnlyList<EntitySpec>? Entities = null,
    IReadOnlySet<string>? Attributes = null,
    QExpr? Q = null,
    QExpr? Csf = null,
    GeoQuery? Geo = null,
    ScopeExpr? ScopeQ = null,
    TemporalQuery? Temporal = null)
{
    public bool Matches(Registration registration) =>
        registration.Information.Any(MatchesInformation)
        && (Q is null || QEvaluator.Evaluate(Q, RegistrationProperties.AsEntity(registration)))
        && (Csf is null || QEvaluator.Evaluate(Csf, RegistrationProperties.AsEntity(registration)))
        && (Geo is null || (registration.Geometries.TryGetValue(Geo.GeoProperty, out var geometry) && GeoEvaluator.Relates(geometry, Geo)))
        && (ScopeQ is null || SelectorExpressions.Matches(ScopeQ, registration.Scopes))
        && (Temporal?.TimeRel is null || MatchesTime(registration, Temporal));

    /// <summary>The RegistrationInfos of <paramref name="registration"/> this filter selects (entities and attributes only).</summary>
    public IEnumerable<RegistrationInfo> MatchingInformation(Registration registration) => registration.Information.Where(MatchesInformation);

    /// <summary>
    /// <paramref name="registration"/> with only the RegistrationInfos this filter selects, as a registration subscription
    /// notifies it (clause 5.11.7: "only matching RegistrationInfo elements"); the rest of it is kept. When none is selected
    /// (a registration notified as noLongerMatching because of its information) it is left whole, since information is
    /// never empty.
    /// </summary>
    public Registration WithMatchingInformation(Registration registration)
    {
        var kept = Enumerable.Range(0, registration.Information.Count).Where(i => MatchesInformation(registration.Information[i])).ToList();
        if (kept.Count == 0 || kept.Count == registration.Information.Count) return registration;
        // The document's information array holds the same RegistrationInfos in the same order (RegistrationParser reads one from the other).
        var document = (JsonObject)registration.Document.DeepClone();
        var information = document["information"]!.AsArray();
        document["information"] = new JsonArray(kept.Select(i => information[i]!.DeepClone()).ToArray());
        return registration with { Information = kept.Select(i => registration.Information[i]).ToList(), Document = document };
    }

    private bool MatchesInformation(RegistrationInfo info) =>
        (Entities is null || info.Entities is null || Entities.Any(spec => info.Entities.Any(spec.Matches)))
        && (Attributes is null || info.Attributes is not { } named || named.Overlaps(Attributes));

    /// <summary>
    /// A temporal query asks for sources of history: observedAt looks at the observationInterval, createdAt and modifiedAt
    /// at the managementInterval (clause 5.10.2). A registration without that interval is not selected; an interval without
    /// endAt is open-ended.
    /// </summary>
    private static bool MatchesTime(Registration registration, TemporalQuery query)
    {
        var interval = query.TimeProperty switch
        {
            TemporalTimeProperty.ObservedAt => registration.ObservationInterval,
            TemporalTimeProperty.CreatedAt or TemporalTimeProperty.ModifiedAt => registration.ManagementInterval,
            _ => null,
        };
        if (interval is null) return false;
        var (from, to) = (query.From, query.To);
        return (to is not { } end || interval.StartAt < end) && (from is not { } start || interval.EndAt is not { } stop || stop > start);
    }
}

/// <summary>
/// One entity specification: a type selector, entity ids and an id pattern, any of them absent. It matches an EntityInfo
/// when the types match and the ids can meet: the EntityInfo names no id or pattern, a given id is its id or fits its
/// pattern, or the given pattern fits its id. Two patterns are taken to overlap, since regular expressions cannot be
/// intersected: a registration that may hold such entities is selected rather than missed.
/// </summary>
public sealed record EntitySpec(TypeExpr? Type = null, IReadOnlyList<string>? Ids = null, string? IdPattern = null)
{
    public bool Matches(EntityInfo info)
    {
        if (Type is not null && !SelectorExpressions.Matches(Type, info.Types)) return false;
        if (Ids is null && IdPattern is null) return true;
        if (info.Id is null && info.IdPattern is null) return true;
        if (Ids is not null && Ids.Any(id => id == info.Id || (info.IdPattern is not null && SafeRegex.IsMatch(info.IdPattern, id)))) return true;
        if (IdPattern is not null && (info.IdPattern is not null || (info.Id is not null && SafeRegex.IsMatch(IdPattern, info.Id)))) return true;
        return false;
    }

    /// <summary>The entity specification of one "entities" entry of a subscription.</summary>
    public static EntitySpec From(EntitySelector selector) =>
        new(selector.Type, selector.Ids, selector.IdPattern);
}
