using System.Text.Json.Nodes;
using Kontext.Broker.Http;
using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.ContextSources;

/// <summary>
/// The distributed part of Retrieve Available Entity Types and Attributes (clauses 5.7.5–5.7.10 with 4.3.6): the same
/// request goes to every registration offering the operation, and the names the sources answer (in the caller's terms,
/// since the caller's @context is sent) are read back as IRIs, to be merged with the local ones. The details of one type
/// or attribute merge too: counts are summed (an entity held in several places counts in each), names and kinds united. Same rules as for
/// entities: nothing is forwarded with local=true or when the request already passed this broker.
/// </summary>
internal sealed class DiscoveryForwarding(EntityForwarding forwarding, ContextSourceClient client)
{
    /// <summary>The sources' answers to GET <paramref name="resource"/> (failures become warnings), or none.</summary>
    /// <remarks><paramref name="entities"/> and <paramref name="attributes"/> narrow the registrations asked (a type's or an attribute's details).</remarks>
    public async Task<IReadOnlyList<JsonNode>> AskAsync(NgsiRequest request, ITenantStore store, string operation, string resource, ForwardingWarnings warnings,
        EntitySpec? entities = null, IReadOnlySet<string>? attributes = null)
    {
        var plan = await forwarding.PlanAsync(request, store, new ForwardingRequest(operation, entities ?? new EntitySpec(), attributes));
        if (plan is null) return [];
        var contextUrl = await NgsiResponse.ContextUrlAsync(request);
        var via = request.Http.Request.Headers.Via is { Count: > 0 } v ? string.Join(", ", v.Where(x => !string.IsNullOrWhiteSpace(x))) : null;
        var answers = await Task.WhenAll(plan.Targets.Select(async target =>
        {
            var response = await client.SendAsync(target.Registration, new ContextSourceRequest(HttpMethod.Get, resource, contextUrl, via),
                request.Tenant, request.Http.RequestAborted);
            if (!response.Answered) { warnings.NoAnswer(target.Registration, response); return null; }
            if (response.Status == StatusCodes.Status404NotFound) return null;
            if (response.Status is < 200 or >= 300) { warnings.ErrorAnswer(target.Registration, response); return null; }
            try { return JsonNode.Parse(response.Body); }
            catch (System.Text.Json.JsonException) { warnings.InvalidAnswer(target.Registration, "not JSON"); return null; }
        }));
        return answers.OfType<JsonNode>().ToList();
    }

    /// <summary>The strings of <paramref name="member"/> in each answer object (one object, or an array of them), as IRIs.</summary>
    public static IEnumerable<string> Names(IEnumerable<JsonNode> answers, string member, NgsiRequest request) =>
        Objects(answers).SelectMany(o => Strings(o[member])).Select(request.Context.ExpandTerm);

    /// <summary>Pairs of a name and the names listed beside it (typeName with attributeNames, attributeName with typeNames).</summary>
    public static IEnumerable<(string Name, string Other)> Pairs(IEnumerable<JsonNode> answers, string nameMember, string othersMember, NgsiRequest request) =>
        Objects(answers).SelectMany(o => Strings(o[nameMember]).SelectMany(name => Strings(o[othersMember])
            .Select(other => (request.Context.ExpandTerm(name), request.Context.ExpandTerm(other)))));

    /// <summary>The sum of the number <paramref name="member"/> over the answers (entityCount, attributeCount of the details of one type or attribute).</summary>
    public static long Sum(IEnumerable<JsonNode> answers, string member) =>
        Objects(answers).Sum(o => o[member] is JsonValue v && v.TryGetValue<long>(out var n) ? n : 0);

    /// <summary>The strings of <paramref name="member"/> in the answers as they are (attributeTypes: Property, Relationship...).</summary>
    public static IEnumerable<string> Values(IEnumerable<JsonNode> answers, string member) => Objects(answers).SelectMany(o => Strings(o[member]));

    /// <summary>The attributeDetails of EntityTypeInfo answers: each attribute (as an IRI) with its attributeTypes.</summary>
    public static IEnumerable<(string Attribute, IEnumerable<string> Kinds)> AttributeDetails(IEnumerable<JsonNode> answers, NgsiRequest request) =>
        Objects(answers).SelectMany(o => o["attributeDetails"] is JsonArray details ? details.OfType<JsonObject>() : [])
            .SelectMany(d => Strings(d["attributeName"]).Select(name => (request.Context.ExpandTerm(name), Strings(d["attributeTypes"]))));

    private static IEnumerable<JsonObject> Objects(IEnumerable<JsonNode> answers) =>
        answers.SelectMany(a => a is JsonArray array ? array.OfType<JsonObject>() : a is JsonObject o ? [o] : []);

    private static IEnumerable<string> Strings(JsonNode? node) => node switch
    {
        JsonArray array => array.OfType<JsonValue>().Select(v => v.TryGetValue<string>(out var s) ? s : null).OfType<string>(),
        JsonValue value when value.TryGetValue<string>(out var s) => [s],
        _ => [],
    };
}
