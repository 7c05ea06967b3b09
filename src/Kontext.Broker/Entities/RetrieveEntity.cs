using Kontext.Broker.ContextSources;
using Kontext.Broker.EntityMaps;
using Kontext.Broker.Http;
using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Formats;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Entities;

/// <summary>Retrieve Entity: GET /entities/{entityId} (clauses 5.7.1, 6.5.3.1).</summary>
internal static class RetrieveEntity
{
    /// <summary>The query parameters of clause 6.5.3.1.</summary>
    private static readonly HashSet<string> Parameters = new(StringComparer.Ordinal)
    {
        "type", "attrs", "pick", "omit", "geometryProperty", "lang", "options", "format", "local", "via", "datasetId",
        "join", "joinLevel", "containedBy", "entityMap", "jsonKeys", "doNotCompact",
    };

    public static async Task HandleAsync(HttpContext http, string entityId, EntityForwarding forwarding)
    {
        var request = await NgsiRequest.ReadAsync(http, allowGeoJson: true);
        QueryParameters.RejectUnknown(request, Parameters);
        var id = EntityRoutes.EntityId(entityId);
        var attrs = QueryParameters.List(request, "attrs");
        var view = EntityView.FromUrl(request, attrs);
        var store = await request.TenantStoreAsync(forWrite: false);
        // Clause 4.3.6: registered context sources may hold (parts of) the entity; their answers are merged with local data.
        var requested = attrs.Count > 0 ? attrs.Select(a => EntityParser.ExpandAttributeName(a, request.Context)).ToHashSet(StringComparer.Ordinal) : null;
        var plan = await forwarding.PlanAsync(request, store, new ForwardingRequest(RegistrationOperations.RetrieveEntity, new EntitySpec(TypeSelector(request), [id]), requested));
        if (plan is null && store is IStoredEntityReader documents && view.RendersStored(request))
        {
            var stored = await documents.GetStoredEntityAsync(id, http.RequestAborted);
            // An entity with transient instances goes the Entity way, which drops those that expired (clause 4.22).
            if (stored is not { HasTransientInstance: true })
            {
                await RespondStoredAsync(request, id, attrs, view, stored);
                return;
            }
        }
        var entity = Transience.Visible(await store.GetEntityAsync(id, http.RequestAborted), DateTimeOffset.UtcNow); // clause 4.22
        var local = entity is not null;
        if (plan is not null)
        {
            var warnings = new ForwardingWarnings();
            entity = await forwarding.RetrieveAsync(request, plan, id, entity, warnings);
            warnings.WriteTo(http.Response);
        }
        if (entity is null || !HasRequestedType(request, entity.Types)) throw NotFound(id);
        // Clause 5.7.1.4: an entity none of whose attributes is asked for, or of which pick/omit leave nothing, is not found.
        var fields = view.Render.Fields;
        if (attrs.Count > 0 && fields.Only is { Count: > 0 } only && !only.Any(entity.Attributes.ContainsKey)) throw NoneOf(id, attrs);
        if (fields.LeavesNothingOf(entity)) throw NothingLeft(id);
        EntityMapUse.Read(request)?.ForRetrieve(id, EntityMapSources(plan, local), temporal: false); // clause 5.7.1.4
        var render = await view.WithLinkedEntitiesAsync(store, [entity], http.RequestAborted);
        await NgsiResponse.WriteEntityAsync(request, entity, render, view.GeometryProperty);
    }

    /// <summary>The Entity path's checks and answer for a local entity read as its stored document.</summary>
    private static async Task RespondStoredAsync(NgsiRequest request, string id, List<string> attrs, EntityView view, StoredEntity? entity)
    {
        if (Transience.Visible(entity, DateTimeOffset.UtcNow) is null || !HasRequestedType(request, entity!.Types)) throw NotFound(id);
        var fields = view.Render.Fields;
        if (attrs.Count > 0 && fields.Only is { Count: > 0 } only && !entity.Attributes.Any(a => only.Contains(a.Iri))) throw NoneOf(id, attrs);
        if (EntityRenderer.LeavesNothingOf(fields, entity)) throw NothingLeft(id);
        EntityMapUse.Read(request)?.ForRetrieve(id, EntityMapSources(null, local: true), temporal: false);
        await NgsiResponse.WriteEntityAsync(request, entity, view.Render);
    }

    private static NgsiException NotFound(string id) => NgsiException.NotFound($"The entity '{id}' does not exist");

    private static NgsiException NoneOf(string id, List<string> attrs) =>
        NgsiException.NotFound($"The entity '{id}' has none of the attributes {string.Join(", ", attrs)}");

    private static NgsiException NothingLeft(string id) => NgsiException.NotFound($"Nothing of the entity '{id}' is left after pick/omit");

    /// <summary>Where the entity may have come from: this broker ("@none") and the sources it was asked of.</summary>
    private static IReadOnlyList<string> EntityMapSources(ForwardingPlan? plan, bool local) =>
        [.. local ? [Kontext.Ngsi.EntityMaps.EntityMap.Local] : Array.Empty<string>(), .. plan?.Targets.Select(t => t.Registration.Id) ?? []];

    internal static Kontext.Ngsi.Query.TypeExpr? TypeSelector(NgsiRequest request) =>
        request.Query["type"].ToString() is { Length: > 0 } type ? Kontext.Ngsi.Query.SelectorExpressions.ParseType(type, request.Context) : null;

    /// <summary>The optional type parameter narrows the look-up: an entity of another type is not found.</summary>
    public static bool HasRequestedType(NgsiRequest request, List<string> entityTypes)
    {
        if (!request.Query.ContainsKey("type")) return true; // most reads name no type: no list to build
        var types = RequestedTypes(request);
        return types.Count == 0 || types.Any(entityTypes.Contains);
    }

    /// <summary>The expanded types of the request's type parameter, which a write's entity must have one of (empty: any).</summary>
    public static IReadOnlyCollection<string> RequestedTypes(NgsiRequest request) =>
        QueryParameters.List(request, "type").Select(request.Context.ExpandTerm).ToList();
}
