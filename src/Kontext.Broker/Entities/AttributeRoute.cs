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
        return EntityParser.ParseAttributeBody(name, iri, Bare(request, name, iri), request.Context, mode);
    }

    /// <summary>
    /// The body as a bare attribute fragment, without its @context. A body that is the fragment wrapped in the attribute's
    /// name, as in an Entity Fragment (figure 6.7.3.3-1 names the body so), is unwrapped: its only member is the attribute
    /// and it has no type, which a bare fragment would need to be one.
    /// </summary>
    private static JsonElement Bare(NgsiRequest request, string name, string iri)
    {
        var body = request.BodyElement!.Value;
        var bare = EntityRoutes.Without(body, "@context");
        JsonProperty? only = null;
        foreach (var member in bare.EnumerateObject())
        {
            if (only is not null) return bare;
            only = member;
        }
        if (only is not { Value.ValueKind: JsonValueKind.Object } wrapped || body.TryGetProperty("type", out _)) return bare;
        var key = wrapped.Name;
        if (key != name && key != iri && request.Context.ExpandTerm(key) != iri) return bare;
        // An attribute named like a payload member ("value", "object", …): { "value": {…} } is its bare fragment.
        if (Attr.PayloadMember.Values.Contains(key) || Attr.ConciseKind.ContainsKey(key)) return bare;
        return wrapped.Value;
    }
}
