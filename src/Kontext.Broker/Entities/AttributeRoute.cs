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
        var body = request.Body!;
        var name = Uri.UnescapeDataString(attrId);
        return EntityParser.ParseAttributeBody(name, iri, WithoutContext(body), request.Context, mode);
    }

    private static System.Text.Json.Nodes.JsonObject WithoutContext(System.Text.Json.Nodes.JsonObject body)
    {
        if (!body.ContainsKey("@context")) return body;
        var copy = (System.Text.Json.Nodes.JsonObject)body.DeepClone();
        copy.Remove("@context");
        return copy;
    }
}
