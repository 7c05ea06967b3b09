using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Query;
using Kontext.Ngsi.Storage;
using Microsoft.Extensions.Options;

namespace Kontext.Broker.Ogc;

/// <summary>The spatial (CRS84) and temporal extent of a collection; null members are unknown or unbounded.</summary>
internal sealed record CollectionExtent(double[]? Bbox, DateTimeOffset? Start, DateTimeOffset? End)
{
    /// <summary>What is always true: the whole CRS84 range and an unbounded interval.</summary>
    public static readonly CollectionExtent Everything = new([-180, -90, 180, 90], null, null);
}

/// <summary>
/// Extents computed from the data through the storage port's query (the same for SQLite and MongoDB, no store method):
/// a collection's features are read page by page and their geometries' envelopes and <see cref="FeatureTime"/> spans
/// merged. The cost is bounded: a collection of more than <see cref="OgcOptions.ExtentScanLimit"/> features gets
/// <see cref="CollectionExtent.Everything"/> without reading any. Results are reused while <see cref="TenantChanges"/>
/// says the tenant has not changed.
/// </summary>
internal sealed class CollectionExtents
{
    private const int PageSize = 500;
    private readonly TenantChanges _changes;
    private readonly int _scanLimit;
    private readonly BoundedCache<(TenantChanges.Stamp Stamp, CollectionExtent Extent)> _cache = new(4096, 4096);

    public CollectionExtents(TenantChanges changes, IOptions<OgcOptions> options)
    {
        _changes = changes;
        _scanLimit = options.Value.ExtentScanLimit;
    }

    public async Task<CollectionExtent> ExtentAsync(ITenantStore store, FeatureCollectionInfo collection, CancellationToken cancellationToken)
    {
        if (collection.FeatureCount > _scanLimit) return CollectionExtent.Everything;
        var key = $"{store.Name}\n{collection.TypeIri}\n{collection.GeometryAttribute}";
        if (_cache.TryGet(key, out var cached) && _changes.IsCurrent(store.Name, cached.Stamp)) return cached.Extent;
        var stamp = _changes.Now(store.Name);
        var extent = await ScanAsync(store, collection, cancellationToken);
        _cache.Set(key, (stamp, extent), 1);
        return extent;
    }

    private async Task<CollectionExtent> ScanAsync(ITenantStore store, FeatureCollectionInfo collection, CancellationToken cancellationToken)
    {
        double west = double.MaxValue, south = double.MaxValue, east = double.MinValue, north = double.MinValue;
        DateTimeOffset? first = null, last = null;
        var query = new EntityQuery(Type: new TypeIs(collection.TypeIri));
        var anyOf = new HashSet<string>(StringComparer.Ordinal) { collection.GeometryAttribute };
        for (var offset = 0; offset <= _scanLimit; offset += PageSize)
        {
            var page = await store.QueryAsync(new EntityPageRequest(query, offset, PageSize, Count: false, anyOf), cancellationToken);
            foreach (var entity in page.Entities)
            {
                foreach (var instance in entity.Attributes.GetValueOrDefault(collection.GeometryAttribute) ?? [])
                {
                    if (GeoJsonGeometry.TryRead(instance["value"]) is not { IsEmpty: false } geometry) continue;
                    var envelope = geometry.EnvelopeInternal;
                    west = Math.Min(west, envelope.MinX);
                    south = Math.Min(south, envelope.MinY);
                    east = Math.Max(east, envelope.MaxX);
                    north = Math.Max(north, envelope.MaxY);
                }
                if (FeatureTime.Span(entity) is { } span)
                {
                    first = first is null || span.First < first ? span.First : first;
                    last = last is null || span.Last > last ? span.Last : last;
                }
            }
            if (page.Entities.Count < PageSize) break;
            if (offset + PageSize > _scanLimit) return CollectionExtent.Everything; // grew past the limit while read
        }
        var bbox = west <= east ? new[] { west, south, east, north } : null;
        return new CollectionExtent(bbox, first, last);
    }
}
