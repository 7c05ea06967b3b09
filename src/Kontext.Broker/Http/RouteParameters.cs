using Kontext.Ngsi.Errors;

namespace Kontext.Broker.Http;

/// <summary>
/// The one table of the URL parameters each NGSI-LD route accepts (the request tables of clause 6), keyed like
/// <see cref="Security.RouteRights"/> by HTTP method and route pattern as mapped. A parameter that is not in its route's
/// line is 400 InvalidRequest (clause 6.3.2), checked once for every request before any handler runs. The lines list
/// what the spec defines for the operation, implemented or not: an unknown name is a client's typo, a known one that the
/// broker does not serve is the handler's business. Adding a parameter to a route is one word in its line.
/// </summary>
internal static class RouteParameters
{
    private const string V1 = "/ngsi-ld/v1";
    private const string Temporal = V1 + "/temporal/entities";

    // Shared groups, each a clause of the spec's parameter tables.
    private static readonly string[] Distributed = ["local"];
    private static readonly string[] Selection = ["id", "type", "idPattern", "attrs", "q", "csf", "scopeQ", "georel", "geometry", "coordinates", "geoproperty"];
    private static readonly string[] Representation = ["options", "format", "pick", "omit", "lang", "geometryProperty", "datasetId", "expandValues", "join", "joinLevel", "entityMap", "containedBy", "splitEntities"];
    private static readonly string[] Paging = ["limit", "offset", "count", "orderBy", "orderFrom", "collation"];
    private static readonly string[] TimeWindow = ["timerel", "timeAt", "endTimeAt", "timeproperty"];
    private static readonly string[] TimeQuery = ["timerel", "timeAt", "endTimeAt", "timeproperty", "lastN", "aggrMethods", "aggrPeriodDuration"];

    private static readonly Dictionary<(string Method, string Pattern), HashSet<string>> Table = new()
    {
        [("POST", V1 + "/entities")] = Set(Distributed),
        [("GET", V1 + "/entities")] = Set(Selection, Representation, Paging, Distributed),
        [("DELETE", V1 + "/entities")] = Set(Selection, Distributed, ["keep", "drop", "datasetId"]),
        [("PUT", V1 + "/entities")] = Set(),
        [("PATCH", V1 + "/entities")] = Set(),
        [("GET", V1 + "/entities/{entityId}")] = Set(Representation, Distributed, ["type", "attrs"]),
        [("DELETE", V1 + "/entities/{entityId}")] = Set(Distributed, ["type"]),
        [("PUT", V1 + "/entities/{entityId}")] = Set(Distributed, ["type"]),
        [("PATCH", V1 + "/entities/{entityId}")] = Set(Distributed, ["type", "options", "format", "observedAt", "lang"]),
        [("POST", V1 + "/entities/{entityId}/attrs")] = Set(Distributed, ["type", "options"]),
        [("PATCH", V1 + "/entities/{entityId}/attrs")] = Set(Distributed, ["type", "options"]),
        [("PATCH", V1 + "/entities/{entityId}/attrs/{attrId}")] = Set(Distributed, ["type", "options"]),
        [("PUT", V1 + "/entities/{entityId}/attrs/{attrId}")] = Set(Distributed, ["type"]),
        [("DELETE", V1 + "/entities/{entityId}/attrs/{attrId}")] = Set(Distributed, ["type", "datasetId", "deleteAll"]),

        [("POST", V1 + "/entityOperations/query")] = Set(Representation, Paging, Distributed),
        [("POST", V1 + "/entityOperations/create")] = Set(Distributed),
        [("POST", V1 + "/entityOperations/upsert")] = Set(Distributed, ["options"]),
        [("POST", V1 + "/entityOperations/update")] = Set(Distributed, ["options"]),
        [("POST", V1 + "/entityOperations/delete")] = Set(Distributed),
        [("POST", V1 + "/entityOperations/merge")] = Set(Distributed, ["options"]),

        [("GET", V1 + "/types")] = Set(Distributed, ["details", "limit", "offset", "count"]),
        [("GET", V1 + "/types/{type}")] = Set(Distributed),
        [("GET", V1 + "/attributes")] = Set(Distributed, ["details", "limit", "offset", "count"]),
        [("GET", V1 + "/attributes/{attrId}")] = Set(Distributed),

        [("POST", Temporal)] = Set(Distributed),
        [("GET", Temporal)] = Set(Selection, Representation, Paging, TimeQuery, Distributed),
        [("POST", V1 + "/temporal/entityOperations/query")] = Set(Representation, Paging, TimeQuery, Distributed),
        [("GET", Temporal + "/{entityId}")] = Set(Representation, TimeQuery, Distributed, ["type", "attrs"]),
        [("DELETE", Temporal + "/{entityId}")] = Set(Distributed, ["type"]),
        [("POST", Temporal + "/{entityId}/attrs")] = Set(Distributed),
        [("DELETE", Temporal + "/{entityId}/attrs/{attrId}")] = Set(Distributed, ["datasetId", "deleteAll"]),
        [("PATCH", Temporal + "/{entityId}/attrs/{attrId}/{instanceId}")] = Set(Distributed),
        [("DELETE", Temporal + "/{entityId}/attrs/{attrId}/{instanceId}")] = Set(Distributed),

        [("POST", V1 + "/subscriptions")] = Set(),
        [("GET", V1 + "/subscriptions")] = Set(Paging, ["options", "format"]),
        [("GET", V1 + "/subscriptions/{subscriptionId}")] = Set(["options", "format"]),
        [("PATCH", V1 + "/subscriptions/{subscriptionId}")] = Set(),
        [("DELETE", V1 + "/subscriptions/{subscriptionId}")] = Set(),

        [("GET", V1 + "/jsonldContexts")] = Set(["details", "kind"]),
        [("GET", V1 + "/jsonldContexts/{contextId}")] = Set(["details"]),
        [("POST", V1 + "/jsonldContexts")] = Set(),
        [("DELETE", V1 + "/jsonldContexts/{contextId}")] = Set(["reload"]),

        [("POST", V1 + "/snapshots")] = Set(),
        [("GET", V1 + "/snapshots")] = Set(["limit", "offset", "count"]),
        [("DELETE", V1 + "/snapshots")] = Set(["q"]),
        [("GET", V1 + "/snapshots/{snapshotId}")] = Set(),
        [("PATCH", V1 + "/snapshots/{snapshotId}")] = Set(),
        [("DELETE", V1 + "/snapshots/{snapshotId}")] = Set(),
        [("POST", V1 + "/snapshots/{snapshotId}/clone")] = Set(),

        [("GET", V1 + "/info/sourceIdentity")] = Set(),

        // Clauses 6.8.3, 6.9.3 (registrations), 6.10/6.11 as applied to registration subscriptions (6.12, 6.13).
        [("POST", V1 + "/csourceRegistrations")] = Set(),
        [("GET", V1 + "/csourceRegistrations")] = Set(Selection, TimeWindow, ["limit", "offset", "count", "options", "format", "lang"]),
        [("GET", V1 + "/csourceRegistrations/{registrationId}")] = Set(["options", "format", "lang"]),
        [("PATCH", V1 + "/csourceRegistrations/{registrationId}")] = Set(),
        [("DELETE", V1 + "/csourceRegistrations/{registrationId}")] = Set(),
        [("POST", V1 + "/csourceSubscriptions")] = Set(),
        [("GET", V1 + "/csourceSubscriptions")] = Set(["limit", "offset", "count", "options", "format"]),
        [("GET", V1 + "/csourceSubscriptions/{subscriptionId}")] = Set(["options", "format"]),
        [("PATCH", V1 + "/csourceSubscriptions/{subscriptionId}")] = Set(),
        [("DELETE", V1 + "/csourceSubscriptions/{subscriptionId}")] = Set(),

        // Clause 6.34.3.1 and 6.35.3.1: the parameters of the query the map is made from; 6.32 (one map).
        [("GET", V1 + "/entityMaps")] = Set(Selection, Distributed, ["entityMapLifetime", "expandValues", "datasetId"]),
        [("GET", V1 + "/temporal/entityMaps")] = Set(Selection, TimeWindow, Distributed, ["entityMapLifetime", "expandValues", "datasetId"]),
        [("GET", V1 + "/entityMaps/{entityMapId}")] = Set(),
        [("PATCH", V1 + "/entityMaps/{entityMapId}")] = Set(),
        [("DELETE", V1 + "/entityMaps/{entityMapId}")] = Set(),
    };

    /// <summary>The parameters of a mapped route; null for routes outside the NGSI-LD API (probes, adapters).</summary>
    public static IReadOnlySet<string>? For(string method, string pattern) =>
        Table.GetValueOrDefault((method, Security.RouteRights.Normalize(pattern)));

    /// <summary>Every declared (method, pattern), for the test that matches them against the mapped NGSI-LD endpoints.</summary>
    public static IEnumerable<(string Method, string Pattern)> Declared => Table.Keys;

    /// <summary>Refuses a request naming a parameter its route does not define (400 InvalidRequest).</summary>
    public static Task CheckAsync(HttpContext http, RequestDelegate next)
    {
        if (http.GetEndpoint() is RouteEndpoint route && For(http.Request.Method, route.RoutePattern.RawText ?? "") is { } accepted)
        {
            foreach (var name in http.Request.Query.Keys)
            {
                if (name.Length > 0 && !accepted.Contains(name))
                    throw NgsiException.InvalidRequest($"Unknown URL parameter '{name}' for {http.Request.Method} {route.RoutePattern.RawText}"
                                                       + (accepted.Count == 0 ? " (it takes none)" : $" (it takes {string.Join(", ", accepted.Order(StringComparer.Ordinal))})"));
            }
        }
        return next(http);
    }

    private static HashSet<string> Set(params string[][] groups) => new(groups.SelectMany(g => g), StringComparer.Ordinal);
}
