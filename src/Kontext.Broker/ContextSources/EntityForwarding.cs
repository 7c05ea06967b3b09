using System.Text;
using System.Text.Json.Nodes;
using Kontext.Broker.EntityMaps;
using Kontext.Broker.Http;
using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.EntityMaps;
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

    /// <summary>The sources <paramref name="what"/> goes to, or null when it is answered from local data only.</summary>
    public async Task<ForwardingPlan?> PlanAsync(NgsiRequest request, ITenantStore store, ForwardingRequest what)
    {
        if (store.Registrations is not { } registrations || QueryParameters.Flag(request, "local")) return null;
        var live = await RegistrationStores.LiveAsync(registrations, request.Tenant, changes, request.Http.RequestAborted);
        if (live.Count == 0) return null;
        var via = ViaChain.Aliases(request.Http.Request.Headers.Via);
        // csf (clause 5.7.2.4) selects the sources by their Context Source Properties; from the URL or a Query body.
        var csf = request.Query["csf"].ToString() is { Length: > 0 } text ? text
            : request.Body?["csf"] is System.Text.Json.Nodes.JsonValue v && v.TryGetValue<string>(out var inBody) ? inBody : null;
        if (csf is not null) what = what with { Csf = QLanguage.Parse(csf, request.Context) };
        // datasetId (clause 5.12): a registration whose datasetIds share none with the request's is not asked.
        if (QueryParameters.List(request, "datasetId") is { Count: > 0 } datasetIds) what = what with { DatasetIds = datasetIds };
        var plan = DistributedOperationPlanner.Plan(what, live.Select(l => l.Registration), via, DateTimeOffset.UtcNow);
        if (plan.Targets.Count == 0) return null;
        if (via.Contains(identity.Alias(request.Tenant)))
        {
            ForwardingWarnings.LoopDetected(request.Http.Response, identity.Alias(request.Tenant));
            return null;
        }
        // Clause 5.7.2.4 (and 4.23.1): ordering is for a query limited to the local scope, never a distributed one.
        if (what.Operation == RegistrationOperations.QueryEntity && request.Query["orderBy"].ToString().Length > 0)
            throw NgsiException.BadRequestData("orderBy cannot be applied to a distributed query; add local=true to order the local entities");
        return plan;
    }

    /// <summary>
    /// Retrieve Entity: local data (without what exclusive sources hold) merged with every source's answer. A source is
    /// asked by GET /entities/{id}, or by a query for the id when its registration offers queryEntity or queryBatch only.
    /// </summary>
    public async Task<Entity?> RetrieveAsync(NgsiRequest request, ForwardingPlan plan, string id, Entity? local, ForwardingWarnings warnings)
    {
        var contextUrl = await NgsiResponse.ContextUrlAsync(request);
        var type = request.Query["type"].ToString();
        var answers = await Task.WhenAll(plan.Targets.Select(async target =>
        {
            var registration = target.Registration;
            if (registration.Supports(RegistrationOperations.RetrieveEntity))
            {
                var query = new StringBuilder("options=sysAttrs");
                if (type.Length > 0) query.Append("&type=").Append(Uri.EscapeDataString(type));
                AppendAttrs(query, Attrs(request, target, QueryParameters.List(request, "attrs")), target);
                var resource = $"entities/{HeaderIri.PathSegment(id)}?{query}";
                var response = await SendAsync(request, target, new ContextSourceRequest(HttpMethod.Get, resource, contextUrl, Via(request)));
                return (target, Entities: Read(target, response, warnings, body => [SourceEntities.ReadOne(body, request.Context)]));
            }
            var byId = ForwardedSelection.ById(id, type.Length > 0 ? type : TypesOf(registration, request), QueryParameters.List(request, "attrs"));
            var found = await AskQueryAsync(request, target, byId, contextUrl, 0, warnings);
            return (target, Entities: (IReadOnlyList<Entity>)found.Where(e => e.Id == id).ToList());
        }));
        var merge = new EntityMerge();
        if (local is not null) merge.Add(WithoutExclusive(local, plan.LocalOmitted));
        Fold(merge, answers);
        return merge.Find(id);
    }

    /// <summary>
    /// Query Entities: every local match and every match of each source (read in pages of <see cref="SourcePageSize"/>),
    /// merged; the caller pages over the merged list.
    /// </summary>
    public async Task<IReadOnlyList<Entity>> QueryAsync(NgsiRequest request, ForwardingPlan plan, IReadOnlyList<Entity> local, ForwardingWarnings warnings,
        EntityQuery filters, Dictionary<string, List<string>>? sources = null)
    {
        var contextUrl = await NgsiResponse.ContextUrlAsync(request);
        // Clause 5.7.2.4: with splitEntities the filters are removed before forwarding and applied to what comes back.
        var split = IsSplit(request);
        var selection = ForwardedSelection.Of(request, withoutFilters: split);
        var answers = await Task.WhenAll(plan.Targets.Select(async target =>
        {
            var found = await ReadFirstAsync(request, target, selection, contextUrl, MaxSourceEntities, warnings);
            return (target, Entities: (IReadOnlyList<Entity>)found);
        }));
        var merge = Merge(plan, local, answers);
        if (sources is not null)
        {
            foreach (var entity in local) Source(sources, entity.Id, EntityMap.Local);
            foreach (var (target, entities) in answers)
                foreach (var entity in entities) Source(sources, entity.Id, target.Registration.Id);
        }
        return split ? Filtered(filters, merge.Entities) : merge.Entities;
    }

    /// <summary>
    /// One page of Query Entities without reading every match: the same entities, in the same order and with the same
    /// content as <see cref="QueryAsync"/> would give before paging. The merged order is local entities first, then each
    /// source's in its own order, so positions below offset + limit + 1 come from the first offset + limit + 1 entities of
    /// each party (<paramref name="local"/> holds the local ones): each source is asked for that many, all at once. An entity
    /// of the page may still have parts at a source that had more matches than it returned, further down its list: such a
    /// source is asked once more, for the page's entities it did not return (by id, with the same filters). Null when the
    /// page cannot be read this way (<see cref="Pages"/>).
    /// </summary>
    public async Task<IReadOnlyList<Entity>> PageAsync(NgsiRequest request, ForwardingPlan plan, IReadOnlyList<Entity> local, int offset, int limit, ForwardingWarnings warnings)
    {
        var wanted = offset + limit + 1;
        var contextUrl = await NgsiResponse.ContextUrlAsync(request);
        var selection = ForwardedSelection.Of(request, withoutFilters: false);
        var firsts = await Task.WhenAll(plan.Targets.Select(async target =>
        {
            var found = await ReadFirstAsync(request, target, selection, contextUrl, wanted, warnings);
            return (Target: target, Entities: found, Exhausted: found.Count < wanted);
        }));
        var pageIds = Merge(plan, local, firsts.Select(f => (f.Target, (IReadOnlyList<Entity>)f.Entities))).Entities.Skip(offset).Take(limit).Select(e => e.Id).ToList();
        var rest = await Task.WhenAll(firsts.Select(async first =>
        {
            if (first.Exhausted) return (first.Target, Entities: (IReadOnlyList<Entity>)first.Entities);
            var returned = first.Entities.Select(e => e.Id).ToHashSet(StringComparer.Ordinal);
            var missing = pageIds.Where(id => !returned.Contains(id) && ForwardedSelection.MayHold(first.Target.Registration, id)).ToList();
            if (missing.Count == 0) return (first.Target, Entities: (IReadOnlyList<Entity>)first.Entities);
            var more = await AskQueryAsync(request, first.Target, selection.WithIds(missing).For(first.Target.Registration), contextUrl, 0, warnings, missing.Count);
            var asked = missing.ToHashSet(StringComparer.Ordinal);
            return (first.Target, Entities: (IReadOnlyList<Entity>)[.. first.Entities, .. more.Where(e => asked.Contains(e.Id))]);
        }));
        // The parts found by id belong to entities already placed, so merging again keeps the order and completes them.
        return Merge(plan, local, rest).Entities.Skip(offset).Take(limit).ToList();
    }

    /// <summary>
    /// Whether <see cref="PageAsync"/> answers this page: not with splitEntities (the filters hold on whole merged entities,
    /// so every part of every candidate is needed), not with a count (the merged total needs every match's id), and not
    /// deeper than <see cref="MaxSourceEntities"/>.
    /// </summary>
    public static bool Pages(NgsiRequest request, Pagination page) =>
        !IsSplit(request) && !page.Count && (long)page.Offset + page.Limit + 1 <= MaxSourceEntities;

    private static EntityMerge Merge(ForwardingPlan plan, IReadOnlyList<Entity> local, IEnumerable<(ForwardTarget Target, IReadOnlyList<Entity> Entities)> answers)
    {
        var merge = new EntityMerge();
        foreach (var entity in local) merge.Add(WithoutExclusive(entity, plan.LocalOmitted));
        Fold(merge, answers);
        return merge;
    }

    /// <summary>splitEntities (clause 5.7.2.4): q, scopeQ and the geo-query hold on the merged entities, not on each source's part.</summary>
    public static bool IsSplit(NgsiRequest request) => QueryParameters.Flag(request, "splitEntities");

    /// <summary>The query a split query asks each party (local data included) with: its filters left for the merged entities.</summary>
    public static EntityQuery WithoutFilters(EntityQuery query) => query with { Q = null, ScopeQ = null, Geo = null };

    /// <summary>
    /// Every match of a query, up to <paramref name="max"/> (beyond: TooManyResults): the local ones, merged with every
    /// source's when there is a <paramref name="plan"/>; with where each came from, for an Entity map (clause 5.5.14).
    /// </summary>
    public async Task<EntityCandidates> CandidatesAsync(NgsiRequest request, ForwardingPlan? plan, ITenantStore store, EntityPageRequest all, int max, ForwardingWarnings warnings)
    {
        var split = plan is not null && IsSplit(request);
        var local = await store.QueryAsync(all with { Query = split ? WithoutFilters(all.Query) : all.Query, Offset = 0, Limit = max + 1, Count = false }, request.Http.RequestAborted);
        if (local.Entities.Count > max)
            throw new NgsiException(NgsiError.TooManyResults($"An Entity map holds at most {max} entities; narrow the query"));
        if (plan is null) return new EntityCandidates(local.Entities, new Dictionary<string, IReadOnlyList<string>>());
        var sources = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var merged = await QueryAsync(request, plan, local.Entities, warnings, all.Query, sources);
        if (merged.Count > max)
            throw new NgsiException(NgsiError.TooManyResults($"An Entity map holds at most {max} entities; narrow the query"));
        return new EntityCandidates(merged, sources.ToDictionary(p => p.Key, p => (IReadOnlyList<string>)p.Value, StringComparer.Ordinal));
    }

    private static void Source(Dictionary<string, List<string>> sources, string entityId, string source)
    {
        if (!sources.TryGetValue(entityId, out var list)) sources[entityId] = list = [];
        if (!list.Contains(source)) list.Add(source);
    }

    /// <summary>The merged entities a split query's q, scopeQ and geo-query select (the parties were asked without them).</summary>
    private static IReadOnlyList<Entity> Filtered(EntityQuery query, IReadOnlyList<Entity> entities)
    {
        var filters = new EntityQuery(Q: query.Q, ScopeQ: query.ScopeQ, Geo: query.Geo);
        return entities.Where(e => EntityMatcher.Matches(e, filters)).ToList();
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
        client.SendAsync(target.Registration, forwarded with { Triggering = request.Http.Request.Headers }, request.Tenant, request.Http.RequestAborted);

    /// <summary>The entities of an answer; a missing, failed or invalid answer gives none and a warning (404: none, no warning).</summary>
    private static IReadOnlyList<Entity> Read(ForwardTarget target, ContextSourceResponse response, ForwardingWarnings warnings, Func<JsonNode?, IReadOnlyList<Entity>> read)
    {
        if (!response.Answered) { warnings.NoAnswer(target.Registration, response); return []; }
        warnings.Relay(response);
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

    /// <summary>A source's first <paramref name="max"/> matches, asked in pages of at most <see cref="SourcePageSize"/>; fewer when it has no more.</summary>
    private async Task<List<Entity>> ReadFirstAsync(NgsiRequest request, ForwardTarget target, ForwardedSelection selection, string contextUrl, int max, ForwardingWarnings warnings)
    {
        var found = new List<Entity>();
        while (found.Count < max)
        {
            var ask = Math.Min(SourcePageSize, max - found.Count);
            var page = await AskQueryAsync(request, target, selection.For(target.Registration), contextUrl, found.Count, warnings, ask);
            found.AddRange(page);
            if (page.Count < ask) break;
        }
        return found;
    }

    /// <summary>
    /// One page of a query to a source: GET /entities when its registration offers queryEntity, else POST
    /// /entityOperations/query with a Query body (queryBatch).
    /// </summary>
    private async Task<IReadOnlyList<Entity>> AskQueryAsync(NgsiRequest request, ForwardTarget target, ForwardedSelection selection, string contextUrl, int offset,
        ForwardingWarnings warnings, int limit = SourcePageSize)
    {
        var attrs = Attrs(request, target, selection.Attrs);
        var paging = $"limit={limit}&offset={offset}";
        ContextSourceRequest forwarded;
        if (target.Registration.Supports(RegistrationOperations.QueryEntity))
        {
            var query = new StringBuilder("options=sysAttrs&" + paging);
            selection.AppendTo(query);
            AppendAttrs(query, attrs, target);
            forwarded = new ContextSourceRequest(HttpMethod.Get, "entities?" + query, contextUrl, Via(request));
        }
        else
        {
            var local = target.Registration.Management.LocalOnly == true ? "&local=true" : "";
            forwarded = new ContextSourceRequest(HttpMethod.Post, $"entityOperations/query?options=sysAttrs&{paging}{local}", contextUrl, Via(request),
                selection.QueryBody(target.Registration, attrs, request.Context.CompactIri));
        }
        var response = await SendAsync(request, target, forwarded);
        // A source may answer a query for one id with the entity itself rather than an array of it.
        return Read(target, response, warnings, body => body is JsonObject ? [SourceEntities.ReadOne(body, request.Context)] : SourceEntities.ReadMany(body, request.Context));
    }

    /// <summary>The attributes to ask a source for: those of the request its registration provides (all asked when it names none).</summary>
    private static IReadOnlyList<string> Attrs(NgsiRequest request, ForwardTarget target, IReadOnlyList<string> asked) =>
        target.Attributes?.Select(request.Context.CompactIri).ToList() ?? asked;

    /// <summary>The entity types a registration names, in the caller's terms, comma-separated ("" when it names none).</summary>
    private static string TypesOf(Registration registration, NgsiRequest request) =>
        string.Join(',', registration.Information.SelectMany(i => i.Entities ?? []).SelectMany(e => e.Types).Select(request.Context.CompactIri).Distinct());

    /// <summary>attrs for the source; and local=true for a source registered with management.localOnly (clause 5.2.34), so it does not forward further.</summary>
    private static void AppendAttrs(StringBuilder query, IReadOnlyList<string> attrs, ForwardTarget target)
    {
        if (target.Registration.Management.LocalOnly == true) query.Append("&local=true");
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
