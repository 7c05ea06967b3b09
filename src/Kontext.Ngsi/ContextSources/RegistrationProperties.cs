using System.Text.Json.Nodes;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;

namespace Kontext.Ngsi.ContextSources;

/// <summary>
/// A registration seen as an entity whose members are Properties, so that csf and q (clause 4.9 syntax, clause 5.10.2)
/// are evaluated by the one q evaluator: <c>csf=endpoint=="http://a.example"</c>, <c>q=brand=="X"</c> on a Context Source
/// Property, <c>csf=mode==exclusive</c>. Core members are named by their core IRI; mode and operations take their
/// defaults when the registration leaves them out.
/// </summary>
public static class RegistrationProperties
{
    public static Entity AsEntity(Registration registration)
    {
        var entity = new Entity(registration.Id) { Types = [ContextProcessor.Core.ExpandTerm(RegistrationParser.Type)], Scopes = registration.Scopes?.ToList() };
        foreach (var (member, value) in registration.Document)
        {
            if (member is "id" or "type" || value is null) continue;
            var iri = RegistrationParser.Members.Contains(member) ? ContextProcessor.Core.ExpandTerm(member) : member;
            entity.Attributes[iri] = [Instance(value)];
        }
        entity.Attributes[ContextProcessor.Core.ExpandTerm("mode")] = [Instance(RegistrationRenderer.ModeName(registration.Mode))];
        entity.Attributes[ContextProcessor.Core.ExpandTerm("operations")] =
            [Instance(new JsonArray(registration.Operations.Select(o => (JsonNode)o).ToArray()))];
        return entity;
    }

    /// <summary>A Context Source Property written as an NGSI-LD Property keeps its form; any other value becomes one.</summary>
    private static JsonObject Instance(JsonNode value) =>
        value is JsonObject o && o.ContainsKey("value") && o["type"] is JsonValue t && t.TryGetValue<string>(out var kind) && kind == Attr.Property
            ? (JsonObject)o.DeepClone()
            : new JsonObject { ["type"] = Attr.Property, ["value"] = value.DeepClone() };
}
