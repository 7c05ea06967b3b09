using System.Text.Json;
using Kontext.Broker.ContextSources;
using Kontext.Broker.Http;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Formats;
using Kontext.Ngsi.Model;

namespace Kontext.Broker.Entities;

/// <summary>The entity resources of clause 6.4–6.7, one operation per file.</summary>
internal static class EntityRoutes
{
    public static void MapEntities(this IEndpointRouteBuilder app)
    {
        var entities = app.MapGroup("/ngsi-ld/v1/entities");
        // The forwarding services are singletons, handed to the handlers here: a parameter the framework binds would be
        // resolved from the request's service scope, opening one per request.
        var forwarding = app.ServiceProvider.GetRequiredService<EntityForwarding>();
        var provision = app.ServiceProvider.GetRequiredService<ProvisionForwarding>();
        entities.MapPost("", (HttpContext http) => CreateEntity.HandleAsync(http, provision));
        entities.MapGet("", (HttpContext http) => QueryEntities.GetAsync(http, forwarding));
        entities.MapDelete("", (NgsiRequest request) => PurgeEntities.HandleAsync(request, provision));
        app.MapPost("/ngsi-ld/v1/entityOperations/query", (HttpContext http) => QueryEntities.PostAsync(http, forwarding));
        entities.MapGet("{entityId}", (HttpContext http, string entityId) => RetrieveEntity.HandleAsync(http, entityId, forwarding));
        entities.MapDelete("{entityId}", (NgsiRequest request, string entityId) => DeleteEntity.HandleAsync(request, entityId, provision));
        entities.MapPut("{entityId}", (HttpContext http, string entityId) => ReplaceEntity.HandleAsync(http, entityId, provision));
        entities.MapPatch("{entityId}", (HttpContext http, string entityId) => MergeEntity.HandleAsync(http, entityId, provision));
        entities.MapPost("{entityId}/attrs", (HttpContext http, string entityId) => AppendAttributes.HandleAsync(http, entityId, provision));
        entities.MapPatch("{entityId}/attrs", (HttpContext http, string entityId) => UpdateAttributes.HandleAsync(http, entityId, provision));
        entities.MapPatch("{entityId}/attrs/{attrId}", (HttpContext http, string entityId, string attrId) => PartialAttributeUpdate.HandleAsync(http, entityId, attrId, provision));
        entities.MapPut("{entityId}/attrs/{attrId}", (HttpContext http, string entityId, string attrId) => ReplaceAttribute.HandleAsync(http, entityId, attrId, provision));
        entities.MapDelete("{entityId}/attrs/{attrId}", (NgsiRequest request, string entityId, string attrId) => DeleteAttribute.HandleAsync(request, entityId, attrId, provision));

        // PATCH or PUT without an entity id is a malformed request, not an unknown method (as the conformance suite expects).
        entities.MapMethods("", ["PATCH", "PUT"], () => { throw NgsiException.BadRequestData("The entity id is missing from the URL"); });
    }

    /// <summary>The entity id from the URL, checked to be a URI.</summary>
    public static string EntityId(string entityId) => Validate.EntityId(Uri.UnescapeDataString(entityId));

    /// <summary>
    /// The body's only member besides its @context (a JSON-LD body's, which is the request's context, not a member of what
    /// the body holds); null when it has none or more: how an attribute body tells the attribute wrapped in its name.
    /// </summary>
    public static JsonProperty? OnlyMember(JsonElement body)
    {
        JsonProperty? only = null;
        foreach (var member in body.EnumerateObject())
        {
            if (member.NameEquals("@context"u8)) continue;
            if (only is not null) return null;
            only = member;
        }
        return only;
    }

    /// <summary>The entity id in a Location header (an IRI, percent-encoded where a header or a path segment needs it).</summary>
    public static string Location(string entityId) => "/ngsi-ld/v1/entities/" + Http.HeaderIri.PathSegment(entityId);
}
