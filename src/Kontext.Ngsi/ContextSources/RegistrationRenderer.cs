using System.Text.Json.Nodes;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;

namespace Kontext.Ngsi.ContextSources;

/// <summary>
/// A registration as a reader sees it (clause 5.10.1): the stored expanded document compacted with the reader's @context,
/// the defaults of mode and operations made explicit, the status of the distributed operations once there is one, and
/// createdAt/modifiedAt with sysAttrs.
/// </summary>
public static class RegistrationRenderer
{
    public static JsonObject Render(Registration registration, JsonLdContext context, RegistrationStatus? status = null,
        DateTimeOffset? createdAt = null, DateTimeOffset? modifiedAt = null)
    {
        var document = registration.Document;
        var output = new JsonObject { ["id"] = registration.Id, ["type"] = RegistrationParser.Type };
        foreach (var (member, value) in document)
        {
            if (member is "id" or "type") continue;
            if (member == "information") output[member] = Information(value!.AsArray(), context);
            else if (RegistrationParser.Members.Contains(member)) output[member] = value?.DeepClone();
            else output[context.CompactIri(member)] = value?.DeepClone();
        }
        output["mode"] = ModeName(registration.Mode);
        output["operations"] = new JsonArray(registration.Operations.Select(o => (JsonNode)o).ToArray());
        if (status is { TimesSent: > 0 })
        {
            output["status"] = status.LastFailure is { } f && (status.LastSuccess is not { } s || f > s) ? "failed" : "ok";
            output["timesSent"] = status.TimesSent;
            output["timesFailed"] = status.TimesFailed;
            if (status.LastSuccess is { } success) output["lastSuccess"] = Validate.Format(success);
            if (status.LastFailure is { } failure) output["lastFailure"] = Validate.Format(failure);
        }
        if (createdAt is { } created) output["createdAt"] = Validate.Format(created);
        if (modifiedAt is { } modified) output["modifiedAt"] = Validate.Format(modified);
        return output;
    }

    public static string ModeName(RegistrationMode mode) => mode switch
    {
        RegistrationMode.Exclusive => "exclusive",
        RegistrationMode.Redirect => "redirect",
        RegistrationMode.Auxiliary => "auxiliary",
        _ => "inclusive",
    };

    private static JsonArray Information(JsonArray information, JsonLdContext context) =>
        new(information.Select(item =>
        {
            var info = (JsonObject)item!.DeepClone();
            if (info["entities"] is JsonArray entities)
            {
                foreach (var entity in entities.OfType<JsonObject>())
                {
                    entity["type"] = entity["type"] switch
                    {
                        JsonArray types => new JsonArray(types.Select(t => (JsonNode)context.CompactIri(t!.GetValue<string>())).ToArray()),
                        var type => context.CompactIri(type!.GetValue<string>()),
                    };
                }
            }
            foreach (var names in new[] { "propertyNames", "relationshipNames" })
            {
                if (info[names] is JsonArray list)
                    info[names] = new JsonArray(list.Select(n => (JsonNode)context.CompactIri(n!.GetValue<string>())).ToArray());
            }
            return (JsonNode)info;
        }).ToArray());
}
