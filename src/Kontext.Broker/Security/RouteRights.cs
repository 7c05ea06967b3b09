namespace Kontext.Broker.Security;

/// <summary>How a route is let through.</summary>
internal enum Gate
{
    /// <summary>Anyone: probes and public documents.</summary>
    Open,

    /// <summary>A vendor ingest source's own secret, checked by the adapters' SourceGuard.</summary>
    SourceSecret,

    /// <summary>A caller holding <see cref="RouteRule.Needs"/> on the request's tenant (or on every tenant).</summary>
    Principal,
}

/// <summary>
/// What one route asks of its caller. <paramref name="AllTenants"/>: the route changes state shared by every tenant, so
/// the role must cover "*". <paramref name="Operator"/>: an adapter admin endpoint, fail-closed even when Kontext:Auth:Mode
/// is none, and also reachable with the adapters' X-Admin-Key.
/// </summary>
internal sealed record RouteRule(Gate Gate, Roles Needs = Roles.None, bool AllTenants = false, bool Operator = false)
{
    public static readonly RouteRule Open = new(Gate.Open);
    public static readonly RouteRule SourceSecret = new(Gate.SourceSecret);
    public static readonly RouteRule Read = new(Gate.Principal, Roles.Read);
    public static readonly RouteRule Write = new(Gate.Principal, Roles.Write);
    public static readonly RouteRule Admin = new(Gate.Principal, Roles.Admin);
    public static readonly RouteRule AdminAllTenants = new(Gate.Principal, Roles.Admin, AllTenants: true);
    public static readonly RouteRule AdapterAdmin = new(Gate.Principal, Roles.Admin, Operator: true);
    public static readonly RouteRule AdapterAdminAllTenants = new(Gate.Principal, Roles.Admin, AllTenants: true, Operator: true);
}

/// <summary>
/// The one table of the right every route needs (D12), keyed by HTTP method and route pattern as mapped. A route that
/// is missing here is refused (403) and fails the test that walks every mapped endpoint: a new route cannot be
/// forgotten open. docs/security.md shows the same table.
/// </summary>
internal static class RouteRights
{
    private const string V1 = "/ngsi-ld/v1";
    private const string Temporal = V1 + "/temporal/entities";
    private const string Ogc = Kontext.Broker.Ogc.OgcServices.Mount; // OGC API – Features, at Kontext:Ogc:BasePath

    private static readonly Dictionary<(string Method, string Pattern), RouteRule> Table = new()
    {
        // Probes and public documents (docs/operations.md): they say nothing about any tenant's data. /metrics carries
        // entity counts per tenant name: set Kontext:Metrics:ScrapeKey where tenant names are not public.
        [("GET", "/health")] = RouteRule.Open,
        [("GET", "/health/live")] = RouteRule.Open,
        [("GET", "/health/ready")] = RouteRule.Open,
        [("GET", "/version")] = RouteRule.Open,
        [("GET", "/metrics")] = RouteRule.Open,
        [("GET", "/openapi/{documentName}.json")] = RouteRule.Open,
        [("GET", "/docs/{documentName?}")] = RouteRule.Open,
        [("GET", "/docs/scalar.js")] = RouteRule.Open,
        [("GET", "/docs/scalar.aspnetcore.js")] = RouteRule.Open,
        [("GET", "/docs/favicon.svg")] = RouteRule.Open,
        // The web console's static files (docs/console.md): no data; it calls the API with its user's own credential.
        [("GET", "/console")] = RouteRule.Open,
        [("GET", "/console/{*path}")] = RouteRule.Open,

        [("GET", V1 + "/entities")] = RouteRule.Read,
        [("GET", V1 + "/entities/{entityId}")] = RouteRule.Read,
        [("POST", V1 + "/entityOperations/query")] = RouteRule.Read,
        [("GET", V1 + "/types")] = RouteRule.Read,
        [("GET", V1 + "/types/{type}")] = RouteRule.Read,
        [("GET", V1 + "/attributes")] = RouteRule.Read,
        [("GET", V1 + "/attributes/{attrId}")] = RouteRule.Read,
        [("POST", V1 + "/entities")] = RouteRule.Write,
        [("PUT", V1 + "/entities")] = RouteRule.Write, // answered 400: the id is missing
        [("PATCH", V1 + "/entities")] = RouteRule.Write, // likewise
        [("DELETE", V1 + "/entities")] = RouteRule.Admin, // Purge Entities
        [("DELETE", V1 + "/entities/{entityId}")] = RouteRule.Write,
        [("PUT", V1 + "/entities/{entityId}")] = RouteRule.Write,
        [("PATCH", V1 + "/entities/{entityId}")] = RouteRule.Write,
        [("POST", V1 + "/entities/{entityId}/attrs")] = RouteRule.Write,
        [("PATCH", V1 + "/entities/{entityId}/attrs")] = RouteRule.Write,
        [("PATCH", V1 + "/entities/{entityId}/attrs/{attrId}")] = RouteRule.Write,
        [("PUT", V1 + "/entities/{entityId}/attrs/{attrId}")] = RouteRule.Write,
        [("DELETE", V1 + "/entities/{entityId}/attrs/{attrId}")] = RouteRule.Write,

        [("POST", V1 + "/entityOperations/create")] = RouteRule.Write,
        [("POST", V1 + "/entityOperations/upsert")] = RouteRule.Write,
        [("POST", V1 + "/entityOperations/update")] = RouteRule.Write,
        [("POST", V1 + "/entityOperations/delete")] = RouteRule.Write,
        [("POST", V1 + "/entityOperations/merge")] = RouteRule.Write,

        [("GET", Temporal)] = RouteRule.Read,
        [("GET", Temporal + "/{entityId}")] = RouteRule.Read,
        [("POST", V1 + "/temporal/entityOperations/query")] = RouteRule.Read,
        [("POST", Temporal)] = RouteRule.Write,
        [("DELETE", Temporal + "/{entityId}")] = RouteRule.Write,
        [("POST", Temporal + "/{entityId}/attrs")] = RouteRule.Write,
        [("DELETE", Temporal + "/{entityId}/attrs/{attrId}")] = RouteRule.Write,
        [("PATCH", Temporal + "/{entityId}/attrs/{attrId}/{instanceId}")] = RouteRule.Write,
        [("DELETE", Temporal + "/{entityId}/attrs/{attrId}/{instanceId}")] = RouteRule.Write,

        [("GET", V1 + "/subscriptions")] = RouteRule.Read,
        [("GET", V1 + "/subscriptions/{subscriptionId}")] = RouteRule.Read,
        [("POST", V1 + "/subscriptions")] = RouteRule.Write,
        [("PATCH", V1 + "/subscriptions/{subscriptionId}")] = RouteRule.Write,
        [("DELETE", V1 + "/subscriptions/{subscriptionId}")] = RouteRule.Write,

        [("POST", V1 + "/snapshots")] = RouteRule.Write,
        [("GET", V1 + "/snapshots")] = RouteRule.Read,
        [("DELETE", V1 + "/snapshots")] = RouteRule.Write,
        [("GET", V1 + "/snapshots/{snapshotId}")] = RouteRule.Read,
        [("PATCH", V1 + "/snapshots/{snapshotId}")] = RouteRule.Write,
        [("DELETE", V1 + "/snapshots/{snapshotId}")] = RouteRule.Write,
        [("POST", V1 + "/snapshots/{snapshotId}/clone")] = RouteRule.Write,

        [("GET", V1 + "/csourceRegistrations")] = RouteRule.Read,
        [("GET", V1 + "/csourceRegistrations/{registrationId}")] = RouteRule.Read,
        [("POST", V1 + "/csourceRegistrations")] = RouteRule.Write,
        [("PATCH", V1 + "/csourceRegistrations/{registrationId}")] = RouteRule.Write,
        [("DELETE", V1 + "/csourceRegistrations/{registrationId}")] = RouteRule.Write,
        [("GET", V1 + "/csourceSubscriptions")] = RouteRule.Read,
        [("GET", V1 + "/csourceSubscriptions/{subscriptionId}")] = RouteRule.Read,
        [("POST", V1 + "/csourceSubscriptions")] = RouteRule.Write,
        [("PATCH", V1 + "/csourceSubscriptions/{subscriptionId}")] = RouteRule.Write,
        [("DELETE", V1 + "/csourceSubscriptions/{subscriptionId}")] = RouteRule.Write,
        [("GET", V1 + "/info/sourceIdentity")] = RouteRule.Read,
        // A source notifying this broker for a subscription it forwarded (clause 5.8.6): the source's key needs Write.
        [("POST", "/ngsi-ld/ex/remote-notify")] = RouteRule.Write,
        // An Entity map is the paging aid of whoever may query: reading rights make, change and drop one.
        [("GET", V1 + "/entityMaps")] = RouteRule.Read,
        [("GET", V1 + "/temporal/entityMaps")] = RouteRule.Read,
        [("GET", V1 + "/entityMaps/{entityMapId}")] = RouteRule.Read,
        [("PATCH", V1 + "/entityMaps/{entityMapId}")] = RouteRule.Read,
        [("DELETE", V1 + "/entityMaps/{entityMapId}")] = RouteRule.Read,

        // An @context is a public document by nature: responses and notifications point receivers at these URLs.
        [("GET", V1 + "/jsonldContexts/{contextId}")] = RouteRule.Open,
        [("GET", V1 + "/jsonldContexts")] = RouteRule.Read,
        [("POST", V1 + "/jsonldContexts")] = RouteRule.AdminAllTenants,
        [("DELETE", V1 + "/jsonldContexts/{contextId}")] = RouteRule.AdminAllTenants,

        // OGC API – Features: read-only views of the tenant's entities, so reading them is the read right.
        [("GET", Ogc)] = RouteRule.Read,
        [("GET", Ogc + "/conformance")] = RouteRule.Read,
        [("GET", Ogc + "/api")] = RouteRule.Read,
        [("GET", Ogc + "/api.html")] = RouteRule.Read,
        [("GET", Ogc + "/collections")] = RouteRule.Read,
        [("GET", Ogc + "/collections/{collectionId}")] = RouteRule.Read,
        [("GET", Ogc + "/collections/{collectionId}/items")] = RouteRule.Read,
        [("GET", Ogc + "/collections/{collectionId}/items/{featureId}")] = RouteRule.Read,

        [("POST", "/adapters/tts/{source}")] = RouteRule.SourceSecret,
        [("POST", "/adapters/chirpstack/{source}")] = RouteRule.SourceSecret,
        [("POST", "/adapters/json/{source}")] = RouteRule.SourceSecret,
        [("GET", "/adapters/contexts/{subject}.jsonld")] = RouteRule.Open,
        [("GET", "/adapters/deadletters")] = RouteRule.AdapterAdmin,
        [("GET", "/adapters/deadletters/{id}")] = RouteRule.AdapterAdmin,
        [("DELETE", "/adapters/deadletters/{id}")] = RouteRule.AdapterAdmin,
        [("POST", "/adapters/deadletters/{id}/replay")] = RouteRule.AdapterAdmin,
        [("POST", "/adapters/deadletters/replay")] = RouteRule.AdapterAdmin,
        [("GET", "/adapters/validation")] = RouteRule.AdapterAdmin,
        [("PUT", "/adapters/validation/{type}")] = RouteRule.AdapterAdmin,
        [("DELETE", "/adapters/validation/{type}")] = RouteRule.AdapterAdmin,
        [("GET", "/adapters/mappings")] = RouteRule.AdapterAdminAllTenants,
        [("POST", "/adapters/mappings/reload")] = RouteRule.AdapterAdminAllTenants,
    };

    /// <summary>The rule of a mapped route, or null when the route declares none (then it is refused).</summary>
    public static RouteRule? For(string method, string pattern) => Table.GetValueOrDefault((method, Normalize(pattern)));

    /// <summary>A group's own route ("" under "/ngsi-ld/v1/entities") is mapped with a trailing slash; the table writes it without.</summary>
    public static string Normalize(string pattern) => pattern.Length > 1 ? pattern.TrimEnd('/') : pattern;

    /// <summary>Every declared (method, pattern), for the test that matches them against the mapped endpoints.</summary>
    public static IEnumerable<(string Method, string Pattern)> Declared => Table.Keys;
}
