using Kontext.Broker.ContextSources;
using Kontext.Broker.Entities;
using Kontext.Broker.Http;
using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Temporal;

/// <summary>
/// Retrieve Temporal Evolution of an Entity: GET /temporal/entities/{id} (clauses 5.7.3, 6.19.3.1). An entity deleted
/// through the entity API keeps its evolution, ending in the deletion instances, and shows deletedAt. Registered context
/// sources offering retrieveTemporal may hold (part of) the evolution: their instances are merged with the local ones
/// (clause 5.7.3.4, <see cref="TemporalForwarding"/>).
/// </summary>
internal static class RetrieveTemporalEntity
{
    public static async Task HandleAsync(NgsiRequest request, string entityId, TemporalForwarding forwarding)
    {
        var http = request.Http;
        var id = EntityRoutes.EntityId(entityId);
        var parameters = TemporalParameters.FromUrl(request);
        var (store, temporal) = await TemporalRoutes.StoresAsync(request, forWrite: false);
        TemporalHead? head = null;
        if (await store.GetEntityAsync(id, http.RequestAborted) is { } current) head = new TemporalHead(current, null);
        else if (await temporal.GetDeletedEntityAsync(id, http.RequestAborted) is { } deleted) head = new TemporalHead(deleted.Entity, deleted.DeletedAt);
        var attrs = QueryParameters.List(request, "attrs");
        var requested = attrs.Count > 0 ? attrs.Select(a => EntityParser.ExpandAttributeName(a, request.Context)).ToHashSet(StringComparer.Ordinal) : null;
        var typeSelector = request.Query["type"].ToString() is { Length: > 0 } type ? Kontext.Ngsi.Query.SelectorExpressions.ParseType(type, request.Context) : null;
        ITemporalStore history = temporal;
        var plan = await forwarding.PlanAsync(request, store, RegistrationOperations.RetrieveTemporal, new EntitySpec(typeSelector, [id]), requested, parameters.Query);
        if (plan is not null)
        {
            var warnings = new ForwardingWarnings();
            var remote = await forwarding.RetrieveAsync(request, plan, id, parameters, temporal, warnings);
            warnings.WriteTo(http.Response);
            history = remote.History;
            if (head is not null) head = head with { Entity = remote.With(head.Entity) };
            else if (remote.Heads.FirstOrDefault() is { } found) head = new TemporalHead(found, null);
        }
        if (head is null) throw NgsiException.NotFound($"The entity '{id}' has no temporal evolution");
        var types = QueryParameters.List(request, "type");
        if (types.Count > 0 && !types.Any(t => head.Entity.Types.Contains(EntityParser.ExpandAttributeName(t, request.Context))))
            throw NgsiException.NotFound($"The entity '{id}' has none of the requested types");
        EntityMaps.EntityMapUse.Read(request)?.ForRetrieve(id, [], temporal: true); // clause 5.7.3.4
        await TemporalResponse.WriteAsync(request, history, [head], parameters, single: true);
    }
}
