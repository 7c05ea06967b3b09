using Kontext.Broker.Http;
using Kontext.Ngsi.EntityMaps;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.EntityMaps;

/// <summary>
/// What a consumption request (Retrieve Entity, Query Entities and their temporal forms) does with Entity maps (clauses
/// 5.5.14, 5.7.1.4, 5.7.2.4, 5.7.3.4, 5.7.4.4): a live map named in the NGSILD-EntityMap header fixes the entities the
/// query considers, and is echoed back; entityMap=true, or a map that is unknown or expired, makes a new map of the
/// result, announced in the NGSILD-EntityMap header (a query that made a map answers 201 Created, 6.4.3.2).
/// </summary>
internal sealed class EntityMapUse
{
    public const string Header = "NGSILD-EntityMap";

    private readonly NgsiRequest request;
    private readonly EntityMapStore store;

    private EntityMapUse(NgsiRequest request, EntityMapStore store, EntityMap? live) => (this.request, this.store, Live) = (request, store, live);

    /// <summary>The map the request names, when it is live; null when a new one is to be made.</summary>
    public EntityMap? Live { get; }

    public int MaxEntities => store.Options.MaxEntities;

    /// <summary>Null when the request neither names a map nor asks for one.</summary>
    public static EntityMapUse? Read(NgsiRequest request)
    {
        var asked = QueryParameters.Flag(request, "entityMap");
        var reference = request.Http.Request.Headers[Header].ToString().Trim();
        if (!asked && reference.Length == 0) return null;
        var store = request.Services.GetRequiredService<EntityMapStore>();
        // A live map is used even with entityMap=true: a new map is made when "no EntityMap currently exists" (5.7.1.4).
        var live = reference.Length > 0 ? store.Find(request.Tenant, IdOf(reference)) : null;
        return new EntityMapUse(request, store, live);
    }

    /// <summary>The map id of a NGSILD-EntityMap value: the map's URI (as this broker sends it) or its bare id.</summary>
    public static string IdOf(string reference)
    {
        const string segment = "/entityMaps/";
        var at = reference.LastIndexOf(segment, StringComparison.Ordinal);
        return Uri.UnescapeDataString(at < 0 ? reference : reference[(at + segment.Length)..]);
    }

    /// <summary>The resource URI of a map (6.32), the value of the NGSILD-EntityMap header.</summary>
    public static string Location(string id) => EntityMapRoutes.EntityMaps + "/" + HeaderIri.PathSegment(id);

    /// <summary>
    /// A page of Query Entities through the map. With a live map: its entities that still match <paramref name="query"/>
    /// (those that no longer do leave the map), in the map's order, pages filled to the limit (clause 5.5.9.3). Otherwise
    /// every match, made into a new map. <paramref name="candidates"/> reads every match of a query (local and forwarded).
    /// </summary>
    public async Task<EntityPage> PageAsync(EntityQuery query, Func<EntityQuery, Task<EntityCandidates>> candidates, EntityOrdering? order, Pagination page)
    {
        IReadOnlyList<Entity> entities;
        if (Live is { } live)
        {
            var inMap = Within(live, query);
            var found = inMap.Count == 0 ? EntityCandidates.None : await candidates(query with { Ids = new(inMap.ToArray()) });
            var byId = found.Entities.Where(e => inMap.Contains(e.Id)).GroupBy(e => e.Id).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
            var kept = live.Keeping(live.EntityIds.Where(id => !Asks(query, id) || byId.ContainsKey(id)).ToHashSet(StringComparer.Ordinal));
            if (!ReferenceEquals(kept, live)) store.Replace(request.Tenant, live, kept);
            entities = kept.Entries.Where(e => byId.ContainsKey(e.EntityId)).Select(e => byId[e.EntityId]).ToList();
            Announce(kept, created: false);
        }
        else
        {
            var found = await candidates(query);
            entities = found.Entities;
            Announce(Create(found.Entries(), temporal: false), created: true);
        }
        var sorted = order is null ? entities : order.Sort(entities);
        return new EntityPage(sorted.Skip(page.Offset).Take(page.Limit).ToList(), page.Count ? sorted.Count : null);
    }

    /// <summary>
    /// Query Temporal Evolution of Entities: with a live map, <paramref name="query"/> narrowed to the map's entities;
    /// otherwise the query unchanged, and a new map of its matches (read by <paramref name="matchingIds"/>).
    /// </summary>
    public async Task<EntityQuery> NarrowTemporalAsync(EntityQuery query, Func<EntityQuery, Task<IReadOnlyList<string>>> matchingIds)
    {
        if (Live is { } live)
        {
            Announce(live, created: false);
            var inMap = Within(live, query);
            // No entity has the map's id: an empty map matches nothing rather than everything.
            return query with { Ids = new(inMap.Count == 0 ? [live.Id] : inMap.ToArray()) };
        }
        var ids = await matchingIds(query);
        Announce(Create(ids.Select(id => new EntityMapEntry(id, [EntityMap.Local])).ToList(), temporal: true), created: true);
        return query;
    }

    /// <summary>Retrieve Entity (temporal or not): a live map is echoed; otherwise a new map of the one entity and its sources.</summary>
    public void ForRetrieve(string entityId, IReadOnlyList<string> sources, bool temporal)
    {
        if (Live is { } live) Announce(live, created: false);
        else Announce(Create([new EntityMapEntry(entityId, sources.Count == 0 ? [EntityMap.Local] : sources)], temporal), created: false);
    }

    private EntityMap Create(IReadOnlyList<EntityMapEntry> entries, bool temporal)
    {
        var lifetime = request.Query["entityMapLifetime"].ToString();
        return store.Create(request.Tenant, entries, temporal, lifetime.Length > 0 ? EntityMap.LifetimeEnd(lifetime, store.Now) : null);
    }

    /// <summary>The map's entities the query still asks for (its own ids, when it names some, narrow the map further).</summary>
    private static List<string> Within(EntityMap map, EntityQuery query) =>
        map.Entries.Select(e => e.EntityId).Where(id => Asks(query, id)).ToList();

    private static bool Asks(EntityQuery query, string id) => query.Ids is not { } ids || ids.Contains(id);

    /// <summary>The header, and 201 for a query that made the map, set when the answer starts (only a successful one).</summary>
    private void Announce(EntityMap map, bool created)
    {
        var response = request.Http.Response;
        response.OnStarting(() =>
        {
            if (response.StatusCode is >= 200 and < 300)
            {
                response.Headers[Header] = Location(map.Id);
                if (created && response.StatusCode == StatusCodes.Status200OK) response.StatusCode = StatusCodes.Status201Created;
            }
            return Task.CompletedTask;
        });
    }
}

/// <summary>Every match of a query, local and forwarded, and where each came from (registration ids, or <see cref="EntityMap.Local"/>).</summary>
internal sealed record EntityCandidates(IReadOnlyList<Entity> Entities, IReadOnlyDictionary<string, IReadOnlyList<string>> Sources)
{
    public static EntityCandidates None { get; } = new([], new Dictionary<string, IReadOnlyList<string>>());

    public IReadOnlyList<EntityMapEntry> Entries() =>
        Entities.Select(e => new EntityMapEntry(e.Id, Sources.GetValueOrDefault(e.Id) ?? [EntityMap.Local])).ToList();
}
