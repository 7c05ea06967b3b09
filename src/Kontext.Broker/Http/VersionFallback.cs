using System.Text.Json.Nodes;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;

namespace Kontext.Broker.Http;

/// <summary>
/// Backwards compatibility of payloads (clause 4.3.6.8, table 4.3.6.8-1): a client that prefers an earlier version of the
/// specification (Prefer: ngsi-ld=1.5) gets the attribute types introduced since then reformatted as the types it knows.
/// VocabProperty and JsonProperty came with 1.8 and fall back to a Property whose value is the vocabulary term or the
/// JSON.
/// </summary>
internal static class VersionFallback
{
    /// <summary>An amended copy of <paramref name="entity"/>, or null when nothing needed amending.</summary>
    public static Entity? Amend(Entity entity, PreferHeader prefer, JsonLdContext context)
    {
        if (!prefer.PrefersBefore(1, 8) || !entity.Attributes.Values.Any(i => i.Any(IsNewer))) return null;
        var copy = entity.Clone();
        foreach (var instances in copy.Attributes.Values)
        {
            foreach (var instance in instances.Where(IsNewer)) Reformat(instance, context);
        }
        return copy;
    }

    private static bool IsNewer(JsonObject instance) => Attr.Type(instance) is Attr.VocabProperty or Attr.JsonProperty;

    private static void Reformat(JsonObject instance, JsonLdContext context)
    {
        var member = Attr.PayloadMember[Attr.Type(instance)];
        var payload = instance[member];
        instance.Remove(member);
        instance["type"] = Attr.Property;
        instance["value"] = payload switch
        {
            JsonValue v when member == "vocab" && v.TryGetValue<string>(out var iri) => context.CompactIri(iri),
            JsonArray a when member == "vocab" => new JsonArray(a.Select(t => (JsonNode?)(t is JsonValue tv && tv.TryGetValue<string>(out var s) ? context.CompactIri(s) : t?.DeepClone())).ToArray()),
            _ => payload,
        };
    }
}
