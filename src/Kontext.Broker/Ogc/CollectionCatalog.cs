using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Ogc;

/// <summary>
/// The collections of a tenant, read from the store's type and attribute statistics (no entity is read): one per entity
/// type that has a GeoProperty. Its geometry is <c>location</c> when the type has it as a GeoProperty, else the first
/// other GeoProperty by name. Collection ids are stable: a short name defined by a shipped smart-data-models context
/// always belongs to that model's type; another type that compacts to the same name is listed under its full IRI.
/// The list is reused while <see cref="TenantChanges"/> says the tenant has not changed: every items request needs it, and
/// on MongoDB the statistics are an aggregation over the tenant's entities.
/// </summary>
internal sealed class CollectionCatalog(SdmContexts contexts, TenantChanges changes)
{
    private readonly BoundedCache<(TenantChanges.Stamp Stamp, IReadOnlyList<FeatureCollectionInfo> Collections)> _cache = new(1024, 1024);

    public async Task<IReadOnlyList<FeatureCollectionInfo>> ListAsync(ITenantStore store, CancellationToken cancellationToken)
    {
        var key = store.Name ?? "";
        if (_cache.TryGet(key, out var cached) && changes.IsCurrent(store.Name, cached.Stamp)) return cached.Collections;
        var stamp = changes.Now(store.Name);
        var collections = await ReadAsync(store, cancellationToken);
        _cache.Set(key, (stamp, collections), 1);
        return collections;
    }

    private async Task<IReadOnlyList<FeatureCollectionInfo>> ReadAsync(ITenantStore store, CancellationToken cancellationToken)
    {
        var statistics = await store.ListTypeAttributesAsync(cancellationToken);
        var candidates = new List<(FeatureCollectionInfo Info, bool Defined)>();
        foreach (var type in statistics.GroupBy(s => s.Type, StringComparer.Ordinal))
        {
            var geo = type.Where(s => s.AttributeKinds.Contains(Attr.GeoProperty)).OrderBy(s => s.Attribute, StringComparer.Ordinal).ToList();
            if (geo.Count == 0) continue;
            var geometry = geo.FirstOrDefault(s => s.Attribute == GeoQuery.DefaultGeoProperty) ?? geo[0];
            var (context, defined) = await contexts.ForTypeAsync(type.Key, cancellationToken);
            var attributes = type.Select(s => s.Attribute).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            var properties = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var attribute in type.Where(s => s.AttributeKinds.Any(k => k != Attr.GeoProperty)).Select(s => s.Attribute).Order(StringComparer.Ordinal))
                properties.TryAdd(context.CompactIri(attribute), attribute);
            candidates.Add((new FeatureCollectionInfo(context.CompactIri(type.Key), type.Key, geometry.Attribute, geometry.EntityCount,
                attributes, properties, context), defined));
        }
        return candidates
            .GroupBy(c => c.Info.Id, StringComparer.Ordinal)
            .SelectMany(same => same.OrderByDescending(c => c.Defined).ThenBy(c => c.Info.TypeIri, StringComparer.Ordinal)
                .Select((c, i) => i == 0 ? c.Info : c.Info with { Id = c.Info.TypeIri }))
            .OrderBy(c => c.Id, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>The collection with this id, or a 404 OGC exception.</summary>
    public async Task<FeatureCollectionInfo> FindAsync(ITenantStore store, string collectionId, CancellationToken cancellationToken) =>
        (await ListAsync(store, cancellationToken)).FirstOrDefault(c => c.Id == collectionId)
        ?? throw OgcException.NotFound($"There is no collection '{collectionId}'{TenantText(store)}: GET /collections lists them");

    private static string TenantText(ITenantStore store) => store.Name is null ? "" : $" in tenant '{store.Name}'";
}
