using Kontext.Broker.Http;
using Kontext.Ngsi.Errors;
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
        return EntityParser.ParseAttributeBody(name, iri, WithoutContext(Bare(request, attrId, iri)), request.Context, mode);
    }

    /// <summary>
    /// The body as a bare attribute fragment (its @context kept). A body that is the fragment wrapped in the attribute's
    /// name, as in an Entity Fragment (figure 6.7.3.3-1 names the body so), is unwrapped: its only member is the attribute
    /// and it has no type, which a bare fragment would need to be one.
    /// </summary>
    private static System.Text.Json.Nodes.JsonObject Bare(NgsiRequest request, string attrId, string iri)
    {
        var body = request.Body!;
        var name = Uri.UnescapeDataString(attrId);
        var members = body.Where(p => p.Key != "@context").ToList();
        if (members.Count != 1 || body.ContainsKey("type") || members[0].Value is not System.Text.Json.Nodes.JsonObject inner) return body;
        var key = members[0].Key;
        if (key != name && key != iri && request.Context.ExpandTerm(key) != iri) return body;
        // An attribute named like a payload member ("value", "object", …): { "value": {…} } is its bare fragment.
        if (Attr.PayloadMember.Values.Contains(key) || Attr.ConciseKind.ContainsKey(key)) return body;
        var bare = (System.Text.Json.Nodes.JsonObject)inner.DeepClone();
        if (body["@context"] is { } context) bare["@context"] = context.DeepClone();
        return bare;
    }

    private static System.Text.Json.Nodes.JsonObject WithoutContext(System.Text.Json.Nodes.JsonObject body)
    {
        if (!body.ContainsKey("@context")) return body;
        var copy = (System.Text.Json.Nodes.JsonObject)body.DeepClone();
        copy.Remove("@context");
        return copy;
    }
}
