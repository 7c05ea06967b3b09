using System.Text;
using System.Text.Json.Nodes;
using Kontext.Broker.Http;
using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Formats;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.ContextSources;

/// <summary>
/// The distributed part of Retrieve Entity and Query Entities (clause 4.3.6): which sources a request goes to, the
/// forwarded requests (through <see cref="ContextSourceClient"/>, all sources at once) and the merge of their answers with
/// local data (<see cref="EntityMerge"/>). Nothing is forwarded with local=true, when the tenant has no matching
/// registration, or when the request already passed this broker (its alias in Via, clause 6.3.18): then it is answered from
/// local data only, which is what stops a cycle of registrations.
/// </summary>
internal sealed class EntityForwarding(ContextSourceClient client, ContextSourceIdentity identity, RegistrationChanges changes)
{
    /// <summary>Entities read from one source for one query (in pages of <see cref="SourcePageSize"/>); more is TooManyResults.</summary>
    public const int MaxSourceEntities = 10_000;
    private const int SourcePageSize = 1000;

    /// <summary>The parameters of Query Entities that select entities, forwarded as they came (in the caller's terms).</summary>
    private static readonly string[] SelectionParameters = ["id", "type", "idPattern", "q", "georel", "geometry", "coordinates", "geoproperty", "scopeQ", "datasetId"];

    /// <summary>The sources <paramref name="what"/> goes to, or null when it is answered from local data only.</summary>
    public async Task<ForwardingPlan?> PlanAsync(NgsiRequest request, ITenantStore store, ForwardingRequest what)
    {
        if (store.Registrations is not { } registrations || QueryParameters.Flag(request, "local")) return null;
        var via = ViaChain.Aliases(request.Http.Request.Headers.Via);
        if (via.Contains(identity.Alias(request.Tenant))) return null;
        var live = await RegistrationStores.LiveAsync(registrations, request.Tenant, changes, request.Http.RequestAborted);
        if (live.Count == 0) return null;
        var plan = DistributedOperationPlanner.Plan(what, live.Select(l => l.Registration), via, DateTimeOffset.UtcNow);
        return plan.Targets.Count == 0 ? null : plan;
    }

    /// <summary>Retrieve Entity: local data (without what exclusive sources hold) merged with every source's answer.</summary>
    public async Task<Entity?> RetrieveAsync(NgsiRequest request, ForwardingPlan plan, string id, Entity? local, ForwardingWarnings warnings)
    {
        var contextUrl = await NgsiResponse.ContextUrlAsync(request);
        var type = request.Query["type"].ToString();
        var answers = await Task.WhenAll(plan.Targets.Select(async target =>
        {
            var query = new StringBuilder("options=sysAttrs");
            if (type.Length > 0) query.Append("&type=").Append(Uri.EscapeDataString(type));
            AppendAttrs(query, request, target);
            var resource = $"entities/{HeaderIri.PathSegment(id)}?{query}";
            var response = await SendAsync(request, target, new ContextSourceRequest(HttpMethod.Get, resource, contextUrl, Via(request)));
            return (target, Entities: Read(target, response, warnings, body => [SourceEntities.ReadOne(body, request.Context)]));
        }));
        var merge = new EntityMerge();
        if (local is not null) merge.Add(WithoutExclusive(local, plan.LocalOmitted));
        Fold(merge, answers);
        return merge.Find(id);
    }

    /// <summary>
    /// Query Entities: every local match (up to <paramref name="maxLocal"/>, read by <paramref name="queryLocal"/>) and every
    /// match of each source, merged; the caller pages over the merged list.
    /// </summary>
    public async Task<IReadOnlyList<Entity>> QueryAsync(NgsiRequest request, ForwardingPlan plan, IReadOnlyList<Entity> local, ForwardingWarnings warnings)
    {
        var contextUrl = await NgsiResponse.ContextUrlAsync(request);
        var answers = await Task.WhenAll(plan.Targets.Select(async target =>
        {
            var found = new List<Entity>();
            for (var offset = 0; offset < MaxSourceEntities; offset += SourcePageSize)
            {
                var query = new StringBuilder($"options=sysAttrs&limit={SourcePageSize}&offset={offset}");
                foreach (var name in SelectionParameters)
                    if (request.Query[name].ToString() is { Length: > 0 } value) query.Append('&').Append(name).Append('=').Append(Uri.EscapeDataString(value));
                AppendAttrs(query, request, target);
                var response = await SendAsync(request, target, new ContextSourceRequest(HttpMethod.Get, "entities?" + query, contextUrl, Via(request)));
                var page = Read(target, response, warnings, body => SourceEntities.ReadMany(body, request.Context));
                found.AddRange(page);
                if (page.Count < SourcePageSize) break;
            }
            return (target, Entities: (IReadOnlyList<Entity>)found);
        }));
        var merge = new EntityMerge();
        foreach (var entity in local) merge.Add(WithoutExclusive(entity, plan.LocalOmitted));
        Fold(merge, answers);
        return merge.Entities;
    }

    private static void Fold(EntityMerge merge, IEnumerable<(ForwardTarget Target, IReadOnlyList<Entity> Entities)> answers)
    {
        var all = answers.ToList();
        foreach (var (_, entities) in all.Where(a => a.Target.Mode != RegistrationMode.Auxiliary))
            foreach (var entity in entities) merge.Add(entity);
        foreach (var (_, entities) in all.Where(a => a.Target.Mode == RegistrationMode.Auxiliary))
            foreach (var entity in entities) merge.AddAuxiliary(entity);
    }

    private Task<ContextSourceResponse> SendAsync(NgsiRequest request, ForwardTarget target, ContextSourceRequest forwarded) =>
        client.SendAsync(target.Registration, forwarded, request.Tenant, request.Http.RequestAborted);

    /// <summary>The entities of an answer; a missing, failed or invalid answer gives none and a warning (404: none, no warning).</summary>
    private static IReadOnlyList<Entity> Read(ForwardTarget target, ContextSourceResponse response, ForwardingWarnings warnings, Func<JsonNode?, IReadOnlyList<Entity>> read)
    {
        if (!response.Answered) { warnings.NoAnswer(target.Registration, response); return []; }
        if (response.Status == StatusCodes.Status404NotFound) return [];
        if (response.Status is < 200 or >= 300) { warnings.ErrorAnswer(target.Registration, response); return []; }
        try
        {
            var entities = read(JsonNode.Parse(response.Body));
            // Only what the registration provides is taken from the source (clause 4.3.6.2).
            return target.Attributes is { } provided ? entities.Select(e => Only(e, provided)).ToList() : entities;
        }
        catch (Exception ex) when (ex is NgsiException or System.Text.Json.JsonException or InvalidOperationException or FormatException)
        {
            warnings.InvalidAnswer(target.Registration, ex is NgsiException n ? n.Error.Detail : "not JSON");
            return [];
        }
    }

    /// <summary>
    /// attrs for the source: the request's attributes the registration provides (all of them when it names none); and
    /// local=true for a source registered with management.localOnly (clause 5.2.34), so it does not forward further.
    /// </summary>
    private static void AppendAttrs(StringBuilder query, NgsiRequest request, ForwardTarget target)
    {
        if (target.Registration.Management.LocalOnly == true) query.Append("&local=true");
        var attrs = target.Attributes?.Select(request.Context.CompactIri).ToList() ?? QueryParameters.List(request, "attrs");
        if (attrs.Count > 0) query.Append("&attrs=").Append(Uri.EscapeDataString(string.Join(',', attrs)));
    }

    private static string? Via(NgsiRequest request) =>
        request.Http.Request.Headers.Via is { Count: > 0 } via ? string.Join(", ", via.Where(v => !string.IsNullOrWhiteSpace(v))) : null;

    private static Entity WithoutExclusive(Entity entity, IReadOnlySet<string> omitted)
    {
        if (omitted.Count == 0 || !entity.Attributes.Keys.Any(omitted.Contains)) return entity;
        var copy = entity.Clone();
        foreach (var name in omitted) copy.Attributes.Remove(name);
        return copy;
    }

    private static Entity Only(Entity entity, IReadOnlySet<string> attributes)
    {
        if (entity.Attributes.Keys.All(attributes.Contains)) return entity;
        var copy = entity.Clone();
        foreach (var name in copy.Attributes.Keys.Where(k => !attributes.Contains(k)).ToList()) copy.Attributes.Remove(name);
        return copy;
    }
}
