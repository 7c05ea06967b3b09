using System.Text.Json.Nodes;
using Kontext.Broker.Http;
using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.ContextSources;

/// <summary>What the sources of a distributed write did: the attributes they took, and those they did not with why.</summary>
internal sealed record ProvisionOutcome(List<string> Forwarded, List<NotUpdatedDetail> Failed)
{
    /// <summary>How many sources took their part.</summary>
    public int Succeeded { get; set; }
}

/// <summary>
/// The distributed part of Create Entity, Update and Append Attributes and Delete Entity (clause 4.3.6.3 with 5.6): the
/// attributes an exclusive, redirect or inclusive registration matches are sent to its source (in the caller's terms and
/// @context), exclusive and redirect ones are then left out of the local write. A source that fails makes the answer a
/// 207 naming what it did not take. A request that came back to this broker and would go to an exclusive or redirect source
/// again is 508 LoopDetected (clause 6.3.17); one that would go to an inclusive source only is done locally.
/// </summary>
internal sealed class ProvisionForwarding(ContextSourceClient client, ContextSourceIdentity identity, RegistrationChanges changes)
{
    public async Task<ForwardingPlan?> PlanAsync(NgsiRequest request, ITenantStore store, ForwardingRequest what)
    {
        if (store.Registrations is not { } registrations) return null;
        var via = ViaChain.Aliases(request.Http.Request.Headers.Via);
        var live = await RegistrationStores.LiveAsync(registrations, request.Tenant, changes, request.Http.RequestAborted);
        if (live.Count == 0) return null;
        var plan = DistributedOperationPlanner.PlanProvision(what, live.Select(l => l.Registration), via, DateTimeOffset.UtcNow);
        if (plan.Targets.Count == 0) return null;
        if (!via.Contains(identity.Alias(request.Tenant))) return plan;
        if (plan.Targets.Any(t => t.Mode is RegistrationMode.Exclusive or RegistrationMode.Redirect))
            throw new NgsiException(NgsiError.LoopDetected("The request already passed this broker and would be forwarded to the same sources again"));
        return null;
    }

    /// <summary>The entity specification of a write to one entity (its types, when the request names them).</summary>
    public static EntitySpec Entity(string id, IReadOnlyList<string> types) =>
        new(types.Count == 0 ? null : types.Count == 1 ? new TypeIs(types[0]) : new TypeOr(new EquatableArray<TypeExpr>(types.Select(t => (TypeExpr)new TypeIs(t)))), [id]);

    /// <summary>
    /// Sends the write to every target: <paramref name="resource"/> with <paramref name="method"/>, and the request's body
    /// reduced to the attributes the target takes (no body for a delete).
    /// </summary>
    public async Task<ProvisionOutcome> ForwardAsync(NgsiRequest request, ForwardingPlan plan, HttpMethod method, string resource, string entityId)
    {
        var contextUrl = await NgsiResponse.ContextUrlAsync(request);
        var via = request.Http.Request.Headers.Via is { Count: > 0 } v ? string.Join(", ", v.Where(x => !string.IsNullOrWhiteSpace(x))) : null;
        var contentType = request.Http.Request.ContentType?.Split(';')[0].Trim() is { Length: > 0 } ct ? ct : "application/json";
        var sent = await Task.WhenAll(plan.Targets.Select(async target =>
        {
            var (body, names) = Body(request, target.Attributes);
            var response = await client.SendAsync(target.Registration,
                new ContextSourceRequest(method, resource, contextUrl, via, body, contentType), request.Tenant, request.Http.RequestAborted);
            return (target, names, response);
        }));
        var outcome = new ProvisionOutcome([], []);
        foreach (var (target, names, response) in sent)
        {
            var affected = names.Count > 0 ? names : [entityId];
            if (response.Answered && response.Status is >= 200 and < 300)
            {
                outcome.Forwarded.AddRange(names);
                outcome.Succeeded++;
            }
            else
            {
                var reason = response.Answered ? $"the context source answered {response.Status}" : response.Detail ?? "the context source did not answer";
                outcome.Failed.AddRange(affected.Select(n => new NotUpdatedDetail(n, $"{target.Registration.ContextSourceAlias ?? target.Registration.Id}: {reason}")));
            }
        }
        return outcome;
    }

    /// <summary>The body for one source: id, type, scope and @context as sent, and the attributes it takes (all when null).</summary>
    private static (string? Body, List<string> Names) Body(NgsiRequest request, IReadOnlySet<string>? attributes)
    {
        if (request.Body is not { } body) return (null, []);
        var copy = new JsonObject();
        var names = new List<string>();
        foreach (var (key, value) in body)
        {
            var isAttribute = key is not ("id" or "@id" or "type" or "@type" or "@context" or "scope" or "expiresAt");
            if (isAttribute && attributes is not null && !attributes.Contains(request.Context.ExpandTerm(key))) continue;
            if (isAttribute) names.Add(request.Context.ExpandTerm(key)); // UpdateResult names attributes by IRI, like local writes
            copy[key] = value?.DeepClone();
        }
        return (copy.ToJsonString(), names);
    }

    /// <summary>
    /// Leaves out of the local write what exclusive and redirect sources took; false when nothing is left to do locally (a
    /// redirect source takes all, or the sources took every attribute of an attribute write).
    /// </summary>
    public static bool OmitLocally(Entity parsed, ForwardingPlan plan, ForwardingRequest what, bool attributeWrite)
    {
        var hadAttributes = parsed.Attributes.Count > 0;
        foreach (var name in plan.LocalOmitted) parsed.Attributes.Remove(name);
        if (DistributedOperationPlanner.IsRedirectedWhole(plan, what)) return false;
        return !(attributeWrite && hadAttributes && parsed.Attributes.Count == 0);
    }

    /// <summary>The answer of a write some of whose parts went to sources: 207 when any failed, else the given success.</summary>
    public static async Task<bool> AnswerPartialAsync(NgsiRequest request, ProvisionOutcome? outcome, IEnumerable<string> localUpdated)
    {
        if (outcome is not { Failed.Count: > 0 }) return false;
        await NgsiResponse.WriteUpdateResultAsync(request, new UpdateResult([.. localUpdated, .. outcome.Forwarded], outcome.Failed));
        return true;
    }
}
