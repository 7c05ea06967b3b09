using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;
using Kontext.Ngsi.Storage;
using Kontext.Ngsi.Temporal;

namespace Kontext.Broker.Temporal;

/// <summary>
/// Which entities a Query Temporal Evolution of Entities returns (clause 5.7.4.4). Type, id and idPattern select
/// candidates from the store; the rest is judged on the history: an entity is returned when it has an Attribute
/// instance in the temporal window (of the requested attributes and datasetIds), when q and geoQ hold over the
/// window's instances, and while a Scope matching scopeQ was valid. Candidates are read a batch at a time and the
/// scan stops once the page (and one more, for the next link) is known, unless a count or an ordering needs them all.
/// </summary>
internal static class TemporalSelection
{
    private const int Batch = 200;

    /// <summary>At most this many instances per attribute and entity are weighed by q and geoQ.</summary>
    public const int FilterInstanceLimit = 10_000;

    public sealed record Request(EntityQuery Query, IReadOnlySet<string>? Attributes, TemporalParameters Parameters,
        int Offset, int Limit, bool Count, bool? DescendingById);

    public static async Task<(IReadOnlyList<TemporalHead> Page, long? Total)> SelectAsync(ITenantStore store, ITemporalStore temporal, Request request, CancellationToken ct)
    {
        var candidates = request.Query with { Q = null, Geo = null, ScopeQ = null };
        var needsAll = request.Count || request.DescendingById is not null;
        var selected = new List<TemporalHead>();
        for (var offset = 0; ; offset += Batch)
        {
            var batch = await store.QueryAsync(new EntityPageRequest(candidates, offset, Batch, Count: false), ct);
            if (batch.Entities.Count > 0) selected.AddRange(await QualifyAsync(temporal, batch.Entities, request, ct));
            if (batch.Entities.Count < Batch) break;
            if (!needsAll && selected.Count > request.Offset + request.Limit) break;
        }
        IEnumerable<TemporalHead> ordered = request.DescendingById switch
        {
            true => selected.OrderByDescending(h => h.Entity.Id, StringComparer.Ordinal),
            false => selected.OrderBy(h => h.Entity.Id, StringComparer.Ordinal),
            null => selected,
        };
        return (ordered.Skip(request.Offset).Take(request.Limit).ToList(), request.Count ? selected.Count : null);
    }

    /// <summary>
    /// Every entity a distributed temporal query returns (clause 5.7.4.4 with 4.3.6), for the caller to page: the local
    /// candidates judged on the merged history, then the entities only the sources hold (they selected those themselves);
    /// ordered by id when asked.
    /// </summary>
    public static async Task<IReadOnlyList<TemporalHead>> SelectMergedAsync(ITenantStore store, ContextSources.FederatedTemporal remote, Request request, CancellationToken ct)
    {
        var max = ContextSources.EntityForwarding.MaxSourceEntities;
        var (local, total) = await SelectAsync(store, remote.History, request with { Offset = 0, Limit = max + 1, Count = true, DescendingById = null }, ct);
        if (total > max)
            throw new Kontext.Ngsi.Errors.NgsiException(Kontext.Ngsi.Errors.NgsiError.TooManyResults($"A distributed temporal query merges at most {max} local matches; narrow the query"));
        var ids = local.Select(h => h.Entity.Id).ToHashSet(StringComparer.Ordinal);
        var merged = local.Select(h => h with { Entity = remote.With(h.Entity) })
            .Concat(remote.Heads.Where(h => !ids.Contains(h.Id) && (request.Query.Ids is not { } wanted || wanted.Contains(h.Id))).Select(h => new TemporalHead(h, null)));
        return (request.DescendingById switch
        {
            true => merged.OrderByDescending(h => h.Entity.Id, StringComparer.Ordinal),
            false => merged.OrderBy(h => h.Entity.Id, StringComparer.Ordinal),
            null => merged,
        }).ToList();
    }

    private static async Task<IEnumerable<TemporalHead>> QualifyAsync(ITemporalStore temporal, IReadOnlyList<Entity> batch, Request request, CancellationToken ct)
    {
        var (query, window, datasets) = (request.Query, request.Parameters.Query, request.Parameters.DatasetIds);
        TemporalReadRequest Read(IReadOnlyList<Entity> entities, IReadOnlySet<string>? attributes, int limit) =>
            new(entities.Select(e => e.Id).ToList(), attributes, window.TimeProperty, window.From, window.FromInclusive, window.To, limit, false, datasets);

        // An entity without an instance in the window has no temporal evolution to show.
        var present = (await temporal.ReadInstancesAsync(Read(batch, request.Attributes, 1), ct)).Select(i => i.Record.EntityId).ToHashSet(StringComparer.Ordinal);
        var survivors = batch.Where(e => present.Contains(e.Id)).ToList();

        if (survivors.Count > 0 && (query.Q is not null || query.Geo is not null))
        {
            var instances = (await temporal.ReadInstancesAsync(Read(survivors, TemporalFilter.ValueAttributes(query), FilterInstanceLimit), ct))
                .ToLookup(i => i.Record.EntityId, StringComparer.Ordinal);
            survivors = survivors.Where(e => TemporalFilter.MatchesValues(query, e, instances[e.Id])).ToList();
        }
        if (survivors.Count == 0 || query.ScopeQ is not { } scopeQ) return survivors.Select(e => new TemporalHead(e, null));

        // The Scope valid at the window's start was set before it: its whole history is read (scopes change rarely).
        var scopeTime = window.TimeProperty == TemporalTimeProperty.ObservedAt ? TemporalTimeProperty.ObservedAt : TemporalTimeProperty.ModifiedAt;
        var history = (await temporal.ReadInstancesAsync(new TemporalReadRequest(survivors.Select(e => e.Id).ToList(),
                new HashSet<string>(StringComparer.Ordinal) { ScopeHistory.Attribute }, scopeTime, null, true, null, FilterInstanceLimit, false), ct))
            .ToLookup(i => i.Record.EntityId, StringComparer.Ordinal);
        return survivors
            .Select(e => new TemporalHead(e, null, TemporalFilter.ScopeSpans(scopeQ, history[e.Id].ToList(), e.Scopes, window)))
            .Where(h => h.Spans!.Count > 0);
    }
}
