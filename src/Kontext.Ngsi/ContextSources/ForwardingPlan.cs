using Kontext.Ngsi.Query;

namespace Kontext.Ngsi.ContextSources;

/// <summary>
/// What a consumption request asks (Retrieve Entity, Query Entities, their temporal forms; clause 4.3.6): the operation
/// name of clause 4.20, the entities (type selector, ids, pattern), the attributes (null: all) and the csf the
/// registrations' Context Source Properties must match (clause 5.7.2.4).
/// </summary>
public sealed record ForwardingRequest(string Operation, EntitySpec Entities, IReadOnlySet<string>? Attributes, QExpr? Csf = null)
{
    /// <summary>The request's geo-query, if any: a registration with a location that cannot hold a match is not asked.</summary>
    public GeoQuery? Geo { get; init; }

    /// <summary>The datasetIds the request asks for, if any (clause 5.12): a registration naming only others is not asked.</summary>
    public IReadOnlyList<string>? DatasetIds { get; init; }
}

/// <summary>
/// One source to ask: the registration, and the attributes to ask it for (null: all that the request asks, the source
/// having registered every attribute of the entities).
/// </summary>
public sealed record ForwardTarget(Registration Registration, IReadOnlySet<string>? Attributes)
{
    public RegistrationMode Mode => Registration.Mode;
}

/// <summary>
/// The sources a request goes to, in the order of clause 4.3.6 (exclusive first, then redirect, inclusive, auxiliary).
/// Auxiliary sources only fill in what nothing else provides. <see cref="LocalOmitted"/> are the attributes the local store
/// must not answer for, because an exclusive registration holds them (clause 4.3.6.3).
/// </summary>
public sealed record ForwardingPlan(IReadOnlyList<ForwardTarget> Targets, IReadOnlySet<string> LocalOmitted, IReadOnlyList<ForwardTarget>? Refusing = null)
{
    /// <summary>
    /// Exclusive and redirect registrations that match a write but do not offer its operation: their part of the write is
    /// not done anywhere and is reported as a Conflict (clauses 5.6.1.4, 5.6.2.4 and the like).
    /// </summary>
    public IReadOnlyList<ForwardTarget> Conflicts => Refusing ?? [];

    public IEnumerable<ForwardTarget> Primary => Targets.Where(t => t.Mode != RegistrationMode.Auxiliary);

    public IEnumerable<ForwardTarget> Auxiliary => Targets.Where(t => t.Mode == RegistrationMode.Auxiliary);
}

/// <summary>
/// Which registrations a consumption request must be forwarded to (clause 4.3.6): pure, so phase 2's handlers and the
/// tests use the same answer. A registration is a target when it has not expired, offers the operation (by name or group),
/// is not a broker the request already passed (its contextSourceAlias is in the Via chain, clause 6.3.18) and matches
/// the request's entities and attributes (<see cref="RegistrationFilter"/>).
/// </summary>
public static class DistributedOperationPlanner
{
    public static ForwardingPlan Plan(ForwardingRequest request, IEnumerable<Registration> registrations, IReadOnlySet<string> passedAliases, DateTimeOffset now) =>
        Match(request, registrations, passedAliases, now, offered: true);

    private static ForwardingPlan Match(ForwardingRequest request, IEnumerable<Registration> registrations, IReadOnlySet<string> passedAliases, DateTimeOffset now, bool offered)
    {
        var filter = new RegistrationFilter(Entities: [request.Entities], Attributes: request.Attributes);
        var targets = new List<ForwardTarget>();
        var omitted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var registration in registrations)
        {
            if (registration.IsExpired(now) || Alternatives(request.Operation).Any(registration.Supports) != offered) continue;
            if (registration.ContextSourceAlias is { } alias && passedAliases.Contains(alias)) continue;
            if (request.Csf is { } csf && !QEvaluator.Evaluate(csf, RegistrationProperties.AsEntity(registration))) continue;
            if (request.Geo is { } geo && !MayHoldGeoMatches(registration, geo)) continue;
            if (request.DatasetIds is { Count: > 0 } asked && DatasetIds(registration) is { Count: > 0 } held && !asked.Any(held.Contains)) continue;
            var infos = filter.MatchingInformation(registration).ToList();
            if (infos.Count == 0) continue;
            var attributes = AttributesToAsk(infos, request.Attributes);
            targets.Add(new ForwardTarget(registration, attributes));
            if (registration.Mode == RegistrationMode.Exclusive && attributes is not null) omitted.UnionWith(attributes);
        }
        return new ForwardingPlan(targets.OrderBy(t => Rank(t.Mode)).ToList(), omitted);
    }

    /// <summary>
    /// Where a create, update or delete goes (clause 4.3.6.3, the provision operations of clause 5.6): the matching
    /// exclusive, redirect and inclusive registrations that offer the operation (auxiliary ones never receive writes). The
    /// attributes an exclusive or redirect registration holds are not written locally (<see cref="ForwardingPlan.LocalOmitted"/>);
    /// a redirect registration for every attribute takes the whole operation away from local data (<see cref="IsRedirectedWhole"/>).
    /// </summary>
    public static ForwardingPlan PlanProvision(ForwardingRequest request, IEnumerable<Registration> registrations, IReadOnlySet<string> passedAliases, DateTimeOffset now)
    {
        var all = registrations.ToList();
        var targets = Plan(request, all, passedAliases, now).Targets.Where(t => t.Mode != RegistrationMode.Auxiliary).ToList();
        var refusing = Match(request, all, passedAliases, now, offered: false).Targets
            .Where(t => t.Mode is RegistrationMode.Exclusive or RegistrationMode.Redirect).ToList();
        var omitted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var target in targets.Concat(refusing).Where(t => t.Mode is RegistrationMode.Exclusive or RegistrationMode.Redirect))
            omitted.UnionWith(target.Attributes ?? request.Attributes ?? new HashSet<string>());
        return new ForwardingPlan(targets, omitted, refusing);
    }

    /// <summary>True when a redirect registration takes every attribute of <paramref name="request"/>: nothing is done locally.</summary>
    public static bool IsRedirectedWhole(ForwardingPlan plan, ForwardingRequest request) =>
        plan.Targets.Concat(plan.Conflicts).Any(t => t.Mode == RegistrationMode.Redirect
            && (t.Attributes is null || (request.Attributes is { } asked && asked.All(t.Attributes.Contains))));

    /// <summary>
    /// The operations that can answer <paramref name="operation"/> (clause 4.3.6.2 with Table 4.20-1): an entity can be
    /// retrieved from a source that offers only queryEntity (a query by id) or only queryBatch (POST .../query), and a
    /// query sent as either.
    /// </summary>
    public static IReadOnlyList<string> Alternatives(string operation) => operation switch
    {
        RegistrationOperations.RetrieveEntity => [RegistrationOperations.RetrieveEntity, RegistrationOperations.QueryEntity, RegistrationOperations.QueryBatch],
        RegistrationOperations.QueryEntity => [RegistrationOperations.QueryEntity, RegistrationOperations.QueryBatch],
        _ => [operation],
    };

    /// <summary>The request's attributes the matching RegistrationInfos provide; all of them when one names no attributes.</summary>
    private static IReadOnlySet<string>? AttributesToAsk(IReadOnlyList<RegistrationInfo> infos, IReadOnlySet<string>? requested)
    {
        if (infos.Any(i => i.Attributes is null)) return requested;
        var registered = infos.SelectMany(i => i.Attributes!).ToHashSet(StringComparer.Ordinal);
        if (requested is not null) registered.IntersectWith(requested);
        return registered;
    }

    /// <summary>
    /// Whether a source can hold entities a geo-query selects (clause 4.3.6.1: the registration's constraints are respected;
    /// its location, observationSpace or operationSpace is where it "may be able to provide information", clause 5.2.9).
    /// A registration without that geometry may hold anything. near with maxDistance needs the area within reach; the
    /// relations that select geometries meeting the query's (within, contains, intersects, equals, overlaps) need the area
    /// to meet it; disjoint and a bare minDistance can be met anywhere.
    /// </summary>
    private static bool MayHoldGeoMatches(Registration registration, GeoQuery geo)
    {
        var member = geo.GeoProperty is CoreBase + "observationSpace" or CoreBase + "operationSpace" ? geo.GeoProperty : CoreBase + "location";
        if (!registration.Geometries.TryGetValue(member, out var area)) return true;
        return geo.Relation switch
        {
            GeoRelation.Near => geo.MaxDistance is not { } max || GeoEvaluator.DistanceMetres(geo.Geometry, area) <= max,
            GeoRelation.Disjoint => true,
            _ => area.Intersects(geo.Geometry),
        };
    }

    private const string CoreBase = "https://uri.etsi.org/ngsi-ld/";

    /// <summary>
    /// The registration's datasetId member (clause 5.2.9: the datasetIds of the attributes the source can provide; "@none"
    /// for the default instances), as written (a string or an array).
    /// </summary>
    private static IReadOnlyList<string>? DatasetIds(Registration registration) =>
        (registration.Document["datasetId"] ?? registration.Document[CoreBase + "datasetId"]) switch
        {
            System.Text.Json.Nodes.JsonValue v when v.TryGetValue<string>(out var one) => [one],
            System.Text.Json.Nodes.JsonArray many => many.Select(n => n is System.Text.Json.Nodes.JsonValue v && v.TryGetValue<string>(out var s) ? s : null).OfType<string>().ToList(),
            _ => null,
        };

    private static int Rank(RegistrationMode mode) => mode switch
    {
        RegistrationMode.Exclusive => 0,
        RegistrationMode.Redirect => 1,
        RegistrationMode.Inclusive => 2,
        _ => 3,
    };
}
