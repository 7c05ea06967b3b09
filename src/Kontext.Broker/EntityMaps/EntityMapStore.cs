using System.Collections.Concurrent;
using Kontext.Ngsi.EntityMaps;
using Microsoft.Extensions.Options;

namespace Kontext.Broker.EntityMaps;

/// <summary>
/// The tenants' Entity maps, in memory. A map is a short-lived paging aid (clause 5.5.14: it expires, and an expired or
/// unknown map is not an error for the query that names it: a new map is made, clauses 5.7.1.4, 5.7.2.4), so a map lost
/// at a restart costs the client one re-query and no data; keeping them out of the stores keeps both stores free of a
/// second write per query. Bounded per tenant (<see cref="EntityMapOptions.MaxMapsPerTenant"/>); expired maps are
/// dropped when seen and when a tenant makes a new one. Every broker instance holds its own maps: with several instances,
/// pages of one map go to the instance that made it (or the client starts again with a new map).
/// </summary>
internal sealed class EntityMapStore(IOptions<EntityMapOptions> options)
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, EntityMap>> tenants = new(StringComparer.Ordinal);

    public EntityMapOptions Options => options.Value;

    public DateTimeOffset Now => DateTimeOffset.UtcNow;

    /// <summary>The live map <paramref name="id"/> of the tenant, or null (unknown, expired, or another tenant's).</summary>
    public EntityMap? Find(string? tenant, string id)
    {
        if (!tenants.TryGetValue(tenant ?? "", out var maps) || !maps.TryGetValue(id, out var map)) return null;
        if (!map.IsExpired(Now)) return map;
        maps.TryRemove(new KeyValuePair<string, EntityMap>(id, map));
        return null;
    }

    /// <summary>A new map of <paramref name="entries"/>, expiring at <paramref name="requestedEnd"/> (bounded) or after the default lifetime.</summary>
    public EntityMap Create(string? tenant, IReadOnlyList<EntityMapEntry> entries, bool temporal, DateTimeOffset? requestedEnd)
    {
        var now = Now;
        var map = new EntityMap(EntityMap.IdPrefix + Guid.NewGuid().ToString("N"),
            EntityMap.Expiry(now, requestedEnd, Options.DefaultLifetime, Options.MaxLifetime), entries, temporal);
        var maps = tenants.GetOrAdd(tenant ?? "", _ => new ConcurrentDictionary<string, EntityMap>(StringComparer.Ordinal));
        foreach (var expired in maps.Values.Where(m => m.IsExpired(now)).ToList()) maps.TryRemove(new KeyValuePair<string, EntityMap>(expired.Id, expired));
        while (maps.Count >= Math.Max(1, Options.MaxMapsPerTenant) && maps.Values.MinBy(m => m.ExpiresAt) is { } soonest)
            maps.TryRemove(new KeyValuePair<string, EntityMap>(soonest.Id, soonest));
        maps[map.Id] = map;
        return map;
    }

    /// <summary>Replaces a map the tenant holds (a narrower map, a new expiry); false when it is gone.</summary>
    public bool Replace(string? tenant, EntityMap current, EntityMap changed) =>
        tenants.TryGetValue(tenant ?? "", out var maps) && maps.TryUpdate(current.Id, changed, current);

    public bool Delete(string? tenant, string id) =>
        tenants.TryGetValue(tenant ?? "", out var maps) && maps.TryRemove(id, out var map) && !map.IsExpired(Now);
}
