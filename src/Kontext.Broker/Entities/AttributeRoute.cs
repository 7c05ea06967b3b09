using System.Text.Json;
using Kontext.Broker.Http;
using Kontext.Ngsi.Model;

namespace Kontext.Broker.Entities;

/// <summary>The attribute named in /entities/{entityId}/attrs/{attrId}, expanded with the request's context.</summary>
internal static class AttributeRoute
{
    public static string Expand(NgsiRequest request, string attrId)
    {
        var name = Uri.UnescapeDataString(attrId);
        return EntityParser.ExpandAttributeName(name, request.Context);
    }

    /// <summary>The single attribute instance in a body: either the bare fragment or { "attrId": fragment }.</summary>
    public static System.Text.Json.Nodes.JsonObject Fragment(NgsiRequest request, string attrId, string iri, ParseMode mode)
    {
        var name = Uri.UnescapeDataString(attrId);
        return Wrapped(request, name, iri) is { } fragment
            ? EntityParser.ParseAttributeBody(name, iri, fragment, request.Context, mode)
            : EntityParser.ParseAttributeBody(name, iri, request.BodyElement!.Value, request.Context, mode, skipsContext: true);
    }

    /// <summary>
    /// The fragment when the body is the fragment wrapped in the attribute's name, as in an Entity Fragment (figure
    /// 6.7.3.3-1 names the body so): besides its @context its only member is the attribute, and it has no type, which a
    /// bare fragment would need to be one. Null when the body is the bare fragment (read without its @context).
    /// </summary>
    private static JsonElement? Wrapped(NgsiRequest request, string name, string iri)
    {
        var body = request.BodyElement!.Value;
        if (EntityRoutes.OnlyMember(body) is not { Value.ValueKind: JsonValueKind.Object } wrapped || body.TryGetProperty("type", out _)) return null;
        var key = wrapped.Name;
        if (key != name && key != iri && request.Context.ExpandTerm(key) != iri) return null;
        // An attribute named like a payload member ("value", "object", …): { "value": {…} } is its bare fragment.
        if (Attr.PayloadMember.Values.Contains(key) || Attr.ConciseKind.ContainsKey(key)) return null;
        return wrapped.Value;
    }
}
