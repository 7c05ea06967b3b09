using System.Text;
using System.Text.Json.Nodes;
using Kontext.Broker.Http;
using Kontext.Broker.Temporal;
using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using Kontext.Ngsi.Temporal;

namespace Kontext.Broker.ContextSources;

/// <summary>
/// What the context sources answered for one distributed temporal request: the temporal entities they hold (heads and
/// instances) and the history to answer from, local and remote merged (<see cref="FederatedHistory"/>).
/// </summary>
internal sealed record FederatedTemporal(IReadOnlyList<SourceTemporalEntity> Entities, FederatedHistory History)
{
    /// <summary>One head per entity the sources hold, types (and the first scope) of every source's answer merged.</summary>
    public IReadOnlyList<Entity> Heads => Entities.GroupBy(e => e.Head.Id, StringComparer.Ordinal).Select(g => Union(g.Select(e => e.Head))).ToList();

    /// <summary>A local head with what the sources know of the same entity (its types).</summary>
    public Entity With(Entity local)
    {
        var remote = Entities.Where(e => e.Head.Id == local.Id).Select(e => e.Head).ToList();
        return remote.Count == 0 ? local : Union([local, .. remote]);
    }

    private static Entity Union(IEnumerable<Entity> heads)
    {
        var all = heads.ToList();
        var head = new Entity(all[0].Id) { Types = [.. all.SelectMany(h => h.Types).Distinct(StringComparer.Ordinal)],
            Scopes = all.Select(h => h.Scopes).FirstOrDefault(s => s is not null), CreatedAt = all[0].CreatedAt, ModifiedAt = all[0].ModifiedAt };
        foreach (var (name, instances) in all[0].Attributes) head.Attributes[name] = instances;
        return head;
    }
}

/// <summary>
/// The distributed part of Retrieve Temporal Evolution of an Entity and Query Temporal Evolution of Entities (clause
/// 4.3.6 with 5.7.3.4 and 5.7.4.4): the sources are chosen as for entities (<see cref="EntityForwarding.PlanAsync"/>:
/// local=true, Via and csf apply) among the registrations offering retrieveTemporal or queryTemporal, less those whose
/// observationInterval (managementInterval for createdAt/modifiedAt windows) cannot overlap the window (clause 5.2.9).
/// Each source is asked for its normalized instances inside the window (with lastN, which cannot drop an instance that the
/// merged lastN keeps), with sysAttrs so that system-time windows can be applied; the representation asked for
/// (temporalValues, aggregatedValues) is made here over the merged series. A source that fails or answers nonsense is a
/// warning and a partial result (<see cref="ForwardingWarnings"/>), a 404 no data at all.
/// </summary>
internal sealed class TemporalForwarding(EntityForwarding forwarding, ContextSourceClient client)
{
    private const int SourcePageSize = 1000;

    /// <summary>The sources a temporal request goes to, or null when it is answered from local data only.</summary>
    public async Task<ForwardingPlan?> PlanAsync(NgsiRequest request, ITenantStore store, string operation, EntitySpec entities,
        IReadOnlySet<string>? attributes, TemporalQuery window)
    {
        var plan = await forwarding.PlanAsync(request, store, new ForwardingRequest(operation, entities, attributes));
        if (plan is null) return null;
        var targets = plan.Targets.Where(t => TemporalMerge.MayHold(t.Registration, window)).ToList();
        return targets.Count == 0 ? null : plan with { Targets = targets };
    }

    /// <summary>Retrieve Temporal Evolution of an Entity: GET /temporal/entities/{id} to every source, with the request's window and attrs.</summary>
    public async Task<FederatedTemporal> RetrieveAsync(NgsiRequest request, ForwardingPlan plan, string id, TemporalParameters parameters,
        ITemporalStore local, ForwardingWarnings warnings)
    {
        var contextUrl = await NgsiResponse.ContextUrlAsync(request);
        var type = request.Query["type"].ToString();
        var answers = await Task.WhenAll(plan.Targets.Select(async target =>
        {
            var query = Parameters(request, target, parameters.Query, QueryParameters.List(request, "attrs"));
            if (type.Length > 0) query.Append("&type=").Append(Uri.EscapeDataString(type));
            var resource = $"temporal/entities/{HeaderIri.PathSegment(id)}?{query}";
            return await AskAsync(request, target, resource, contextUrl, parameters.Query, warnings, single: true);
        }));
        return Federated(answers, local);
    }

    /// <summary>Query Temporal Evolution of Entities: the query's selection (from the URL or the Query body) to every source, read in pages.</summary>
    public async Task<FederatedTemporal> QueryAsync(NgsiRequest request, ForwardingPlan plan, TemporalParameters parameters, ITemporalStore local, ForwardingWarnings warnings)
    {
        var contextUrl = await NgsiResponse.ContextUrlAsync(request);
        var selection = ForwardedSelection.Of(request, withoutFilters: false);
        var answers = await Task.WhenAll(plan.Targets.Select(async target =>
        {
            var found = new List<SourceTemporalEntity>();
            for (var offset = 0; offset < EntityForwarding.MaxSourceEntities; offset += SourcePageSize)
            {
                var query = Parameters(request, target, parameters.Query, selection.Attrs);
                query.Append("&limit=").Append(SourcePageSize).Append("&offset=").Append(offset);
                selection.For(target.Registration).AppendTo(query);
                var page = await AskAsync(request, target, "temporal/entities?" + query, contextUrl, parameters.Query, warnings, single: false);
                found.AddRange(page);
                if (page.Select(e => e.Head.Id).Distinct().Count() < SourcePageSize) break;
            }
            return (IReadOnlyList<SourceTemporalEntity>)found;
        }));
        return Federated(answers, local);
    }

    private static FederatedTemporal Federated(IEnumerable<IReadOnlyList<SourceTemporalEntity>> answers, ITemporalStore local)
    {
        var entities = answers.SelectMany(a => a).ToList();
        return new FederatedTemporal(entities, new FederatedHistory(local, entities.SelectMany(e => e.Instances).ToList()));
    }

    /// <summary>The window (timerel, timeAt, endTimeAt, timeproperty, lastN), options=sysAttrs, attrs, datasetId and local=true for a localOnly source.</summary>
    private static StringBuilder Parameters(NgsiRequest request, ForwardTarget target, TemporalQuery window, IReadOnlyList<string> asked)
    {
        var query = new StringBuilder("options=sysAttrs");
        if (window.TimeRel is { } relation)
        {
            query.Append("&timerel=").Append(TemporalQuery.Name(relation)).Append("&timeAt=").Append(Uri.EscapeDataString(TemporalTime.Format(window.TimeAt!.Value)));
            if (window.EndTimeAt is { } end) query.Append("&endTimeAt=").Append(Uri.EscapeDataString(TemporalTime.Format(end)));
        }
        if (window.TimeProperty != TemporalTimeProperty.ObservedAt) query.Append("&timeproperty=").Append(TemporalQuery.Name(window.TimeProperty));
        if (window.LastN is { } lastN) query.Append("&lastN=").Append(lastN);
        var attrs = target.Attributes?.Select(request.Context.CompactIri).ToList() ?? asked;
        if (attrs.Count > 0) query.Append("&attrs=").Append(Uri.EscapeDataString(string.Join(',', attrs)));
        if (request.Query["datasetId"].ToString() is { Length: > 0 } datasets) query.Append("&datasetId=").Append(Uri.EscapeDataString(datasets));
        if (target.Registration.Management.LocalOnly == true) query.Append("&local=true");
        return query;
    }

    /// <summary>
    /// One request to a source and, when the source cut its instances (206, clause 6.3.10) of a forward walk, the follow-up
    /// pages its Link rel="next" names, up to <see cref="MaxSourceInstancePages"/>: the merged series needs them all (an
    /// aggregation, or instances of the source that fall before the local cut). With lastN the source's newest n suffice.
    /// </summary>
    private async Task<IReadOnlyList<SourceTemporalEntity>> AskAsync(NgsiRequest request, ForwardTarget target, string resource, string contextUrl,
        TemporalQuery window, ForwardingWarnings warnings, bool single)
    {
        var found = new List<SourceTemporalEntity>();
        for (var page = 0; page < MaxSourceInstancePages; page++)
        {
            var response = await SendAsync(request, target, resource, contextUrl);
            found.AddRange(Read(request, target, response, warnings, single));
            if (window.LastN is not null || response.Status != StatusCodes.Status206PartialContent || NextResource(response) is not { } next) break;
            resource = next;
        }
        return found;
    }

    private const int MaxSourceInstancePages = 20;

    private static readonly System.Text.RegularExpressions.Regex NextLink =
        new(@"<([^>]+)>\s*;\s*rel=""?next""?", System.Text.RegularExpressions.RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));

    /// <summary>The resource a Link rel="next" names, relative to the source's NGSI-LD root; null when there is none.</summary>
    private static string? NextResource(ContextSourceResponse response)
    {
        foreach (var (name, value) in response.Headers)
        {
            if (!name.Equals("Link", StringComparison.OrdinalIgnoreCase) || NextLink.Match(value) is not { Success: true } match) continue;
            var target = match.Groups[1].Value;
            var root = target.IndexOf("/ngsi-ld/v1/", StringComparison.Ordinal);
            return root < 0 ? null : target[(root + "/ngsi-ld/v1/".Length)..];
        }
        return null;
    }

    private Task<ContextSourceResponse> SendAsync(NgsiRequest request, ForwardTarget target, string resource, string contextUrl)
    {
        var via = request.Http.Request.Headers.Via is { Count: > 0 } v ? string.Join(", ", v.Where(x => !string.IsNullOrWhiteSpace(x))) : null;
        return client.SendAsync(target.Registration, new ContextSourceRequest(HttpMethod.Get, resource, contextUrl, via) { Triggering = request.Http.Request.Headers },
            request.Tenant, request.Http.RequestAborted);
    }

    /// <summary>The temporal entities of an answer; a missing, failed or invalid answer gives none and a warning (404: none, no warning).</summary>
    private static IReadOnlyList<SourceTemporalEntity> Read(NgsiRequest request, ForwardTarget target, ContextSourceResponse response, ForwardingWarnings warnings, bool single)
    {
        if (!response.Answered) { warnings.NoAnswer(target.Registration, response); return []; }
        if (response.Status == StatusCodes.Status404NotFound) return [];
        if (response.Status is < 200 or >= 300) { warnings.ErrorAnswer(target.Registration, response); return []; }
        try
        {
            var body = JsonNode.Parse(response.Body);
            var now = DateTimeOffset.UtcNow;
            var entities = single || body is JsonObject
                ? [SourceTemporalEntities.ReadOne(body, request.Context, now)]
                : SourceTemporalEntities.ReadMany(body, request.Context, now);
            // Only what the registration provides is taken from the source (clause 4.3.6.2).
            return target.Attributes is { } provided
                ? entities.Select(e => e with { Instances = e.Instances.Where(i => provided.Contains(i.Attribute)).ToList() }).ToList()
                : entities;
        }
        catch (Exception ex) when (ex is NgsiException or System.Text.Json.JsonException or InvalidOperationException or FormatException)
        {
            warnings.InvalidAnswer(target.Registration, ex is NgsiException n ? n.Error.Detail : "not JSON");
            return [];
        }
    }
}
