using System.Text.Json.Nodes;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;

namespace Kontext.Ngsi.Subscriptions;

/// <summary>
/// The terms of a subscription body (entity types, watchedAttributes, notification.attributes, pick, omit,
/// geoQ.geoproperty) re-expressed for a reader: expanded with the context the body was written with, compacted with the
/// reader's (clause 5.8.3: the subscription is compacted with the requester's @context). q and scopeQ are shown as written.
/// </summary>
public static class SubscriptionTerms
{
    public static JsonObject Compact(JsonObject body, JsonLdContext written, JsonLdContext reader)
    {
        var output = (JsonObject)body.DeepClone();
        string Attribute(string name) => name is "id" or "type" or "scope" ? name : reader.CompactIri(EntityParser.ExpandAttributeName(name, written));

        if (output["entities"] is JsonArray entities)
        {
            foreach (var selector in entities.OfType<JsonObject>())
            {
                if (selector["type"] is not JsonValue v || !v.TryGetValue<string>(out var type)) continue;
                // Only a single type is rewritten: a type expression ("A,B", "(A;B)") is shown as written.
                if (TryParseType(type, written) is TypeIs single) selector["type"] = reader.CompactIri(single.Iri);
            }
        }
        Rewrite(output, "watchedAttributes", Attribute);
        if (output["notification"] is JsonObject notification)
            foreach (var member in new[] { "attributes", "pick", "omit" }) Rewrite(notification, member, Attribute);
        if (output["geoQ"] is JsonObject geoQ && geoQ["geoproperty"] is JsonValue g && g.TryGetValue<string>(out var geoproperty))
            geoQ["geoproperty"] = Attribute(geoproperty);
        return output;
    }

    private static TypeExpr? TryParseType(string text, JsonLdContext context)
    {
        try { return SelectorExpressions.ParseType(text, context); }
        catch (NgsiException) { return null; }
    }

    private static void Rewrite(JsonObject owner, string member, Func<string, string> rewrite)
    {
        if (owner[member] is not JsonArray list) return;
        for (var i = 0; i < list.Count; i++)
            if (list[i] is JsonValue v && v.TryGetValue<string>(out var name)) list[i] = rewrite(name);
    }
}
