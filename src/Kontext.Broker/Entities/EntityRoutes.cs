using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Model;

namespace Kontext.Broker.Entities;

/// <summary>The entity resources of clause 6.4–6.7, one operation per file.</summary>
internal static class EntityRoutes
{
    public static void MapEntities(this IEndpointRouteBuilder app)
    {
        var entities = app.MapGroup("/ngsi-ld/v1/entities");
        entities.MapPost("", CreateEntity.HandleAsync);
        entities.MapGet("", QueryEntities.GetAsync);
        entities.MapDelete("", PurgeEntities.HandleAsync);
        app.MapPost("/ngsi-ld/v1/entityOperations/query", QueryEntities.PostAsync);
        entities.MapGet("{entityId}", RetrieveEntity.HandleAsync);
        entities.MapDelete("{entityId}", DeleteEntity.HandleAsync);
        entities.MapPut("{entityId}", ReplaceEntity.HandleAsync);
        entities.MapPatch("{entityId}", MergeEntity.HandleAsync);
        entities.MapPost("{entityId}/attrs", AppendAttributes.HandleAsync);
        entities.MapPatch("{entityId}/attrs", UpdateAttributes.HandleAsync);
        entities.MapPatch("{entityId}/attrs/{attrId}", PartialAttributeUpdate.HandleAsync);
        entities.MapPut("{entityId}/attrs/{attrId}", ReplaceAttribute.HandleAsync);
        entities.MapDelete("{entityId}/attrs/{attrId}", DeleteAttribute.HandleAsync);

        // PATCH or PUT without an entity id is a malformed request, not an unknown method (as the conformance suite expects).
        entities.MapMethods("", ["PATCH", "PUT"], () => { throw NgsiException.BadRequestData("The entity id is missing from the URL"); });
    }

    /// <summary>The entity id from the URL, checked to be a URI.</summary>
    public static string EntityId(string entityId) => Validate.EntityId(Uri.UnescapeDataString(entityId));

    /// <summary>The entity id in a Location header (an IRI, percent-encoded where a header or a path segment needs it).</summary>
    public static string Location(string entityId) => "/ngsi-ld/v1/entities/" + Http.HeaderIri.PathSegment(entityId);
}
