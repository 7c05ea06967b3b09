using Kontext.Broker.ContextSources;
using Kontext.Broker.Entities;
using Kontext.Broker.Http;
using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Model;

namespace Kontext.Broker.Temporal;

/// <summary>
/// Modify Attribute instance in Temporal Representation of an Entity: PATCH /temporal/entities/{id}/attrs/{attrId}/{instanceId}
/// (clauses 5.6.14, 6.22.3.1). The body is the attribute (a fragment naming it, or its instance directly); the instance is
/// replaced in place and keeps its instanceId. The current state is not touched: this corrects history. The instance is
/// where its id was given: here or at a source registered for the attribute offering updateAttrInstanceTemporal (clause
/// 4.3.6.3), which is sent the body as received.
/// </summary>
internal static class ModifyTemporalInstance
{
    public static async Task HandleAsync(HttpContext http, string entityId, string attrId, string instanceId, ProvisionForwarding provision)
    {
        var request = await NgsiRequest.ReadWithBodyAsync(http);
        var id = EntityRoutes.EntityId(entityId);
        var name = Uri.UnescapeDataString(attrId);
        var attribute = EntityParser.ExpandAttributeName(name, request.Context);
        var instance = Validate.EntityId(Uri.UnescapeDataString(instanceId), "instanceId");
        var body = request.BodyElement!.Value;
        // Either { "speed": { ...instance... } } (as the suite sends it) or the instance itself; a JSON-LD body's @context
        // is the request's context, in neither.
        var parsed = EntityRoutes.OnlyMember(body) is { Value.ValueKind: System.Text.Json.JsonValueKind.Object } wrapped
                     && EntityParser.ExpandAttributeName(wrapped.Name, request.Context) == attribute
            ? EntityParser.ParseAttributeBody(name, attribute, wrapped.Value, request.Context, ParseMode.Full)
            : EntityParser.ParseAttributeBody(name, attribute, body, request.Context, ParseMode.Full, skipsContext: true);
        var now = DateTimeOffset.UtcNow;
        parsed["modifiedAt"] = Validate.Format(now);
        var (store, temporal) = await TemporalRoutes.StoresAsync(request, forWrite: false);
        var distributed = await provision.ForwardAsync(request, store, id,
            ProvisionForwarding.Attribute(RegistrationOperations.UpdateAttrInstanceTemporal, id, attribute),
            new(HttpMethod.Patch, InstanceResource.Of(id, name, instance), ForwardedBody.Whole));
        var notFound = NgsiError.ResourceNotFound($"The entity '{id}' has no instance '{instance}' of '{name}'");
        if (!await distributed.HeldAsync(distributed.RunsLocallyFor(attribute), () => temporal.ReplaceInstanceAsync(id, attribute, instance, parsed, now, http.RequestAborted), notFound, [attribute]))
            throw new NgsiException(notFound);
        if (await distributed.AnswerAttributesAsync(request)) return;
        NgsiResponse.NoContent(request);
    }
}
