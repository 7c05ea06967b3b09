using System.Globalization;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;

namespace Kontext.Ngsi.ContextSources;

/// <summary>
/// Entities a context source answered (normalized, asked for with options=sysAttrs), read into expanded form with the
/// @context the request was sent with. The system times are kept, since merging compares them (clause 4.3.6.4). A
/// payload that is not NGSI-LD is rejected as a whole (clause 6.3.17: not incorporated).
/// </summary>
public static class SourceEntities
{
    /// <summary>One entity (Retrieve Entity's answer).</summary>
    public static Entity ReadOne(JsonNode? body, JsonLdContext context) =>
        body is JsonObject obj ? Read(obj, context) : throw NgsiException.BadRequestData("The context source did not answer with an entity");

    /// <summary>An entity array (Query Entities' answer).</summary>
    public static IReadOnlyList<Entity> ReadMany(JsonNode? body, JsonLdContext context) =>
        body is JsonArray array
            ? array.Select(e => e is JsonObject obj ? Read(obj, context) : throw NgsiException.BadRequestData("The context source answered a non-entity")).ToList()
            : throw NgsiException.BadRequestData("The context source did not answer with an entity array");

    private static Entity Read(JsonObject raw, JsonLdContext context)
    {
        var body = (JsonObject)raw.DeepClone();
        body.Remove("@context");
        var entity = EntityParser.ParseEntity(body, context, ParseMode.Full);
        entity.CreatedAt = Time(raw["createdAt"]) ?? default;
        entity.ModifiedAt = Time(raw["modifiedAt"]) ?? default;
        foreach (var (name, instances) in entity.Attributes)
        {
            var rawAttribute = raw.FirstOrDefault(p => !p.Key.StartsWith('@') && context.ExpandTerm(p.Key) == name).Value;
            var rawInstances = rawAttribute switch { JsonArray a => a.OfType<JsonObject>().ToList(), JsonObject o => [o], _ => [] };
            foreach (var instance in instances)
            {
                var source = rawInstances.FirstOrDefault(r => DatasetId(r) == Attr.DatasetId(instance));
                foreach (var member in (string[])["createdAt", "modifiedAt"])
                    if (source?[member] is JsonValue time && Time(time) is not null) instance[member] = time.DeepClone();
            }
        }
        return entity;
    }

    private static string? DatasetId(JsonObject raw) =>
        raw["datasetId"] is JsonValue v && v.TryGetValue<string>(out var id) && id != "@none" ? id : null;

    private static DateTimeOffset? Time(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<string>(out var text)
        && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time : null;
}
