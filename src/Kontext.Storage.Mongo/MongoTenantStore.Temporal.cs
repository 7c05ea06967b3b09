using System.Text.Json.Nodes;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using MongoDB.Bson;
using MongoDB.Driver;

namespace Kontext.Storage.Mongo;

/// <summary>The Temporal API's reads and writes over the attributeInstances history (issue 5).</summary>
internal sealed partial class MongoTenantStore : ITemporalStore
{
    public ITemporalStore History => this;

    /// <summary>Temporal pipelines may sort and group more than a stage's 100 MB: let them spill (the default from MongoDB 6.0, said explicitly).</summary>
    private static readonly AggregateOptions Spillable = new() { AllowDiskUse = true };

    public async Task<IReadOnlyList<TemporalInstance>> ReadInstancesAsync(TemporalReadRequest request, CancellationToken cancellationToken)
    {
        if (request.EntityIds.Count == 0 || request.PerAttributeLimit <= 0 || request.Attributes is { Count: 0 }) return [];
        var time = MongoTemporalPipelines.TimeField(request.TimeProperty);
        var pipeline = MongoTemporalPipelines.ReadInstances(request, await VisibleAsync(request.EntityIds, cancellationToken));
        var docs = await (await _instances.AggregateAsync<BsonDocument>(pipeline, Spillable, cancellationToken)).ToListAsync(cancellationToken);
        return docs.Select(d => new TemporalInstance(MongoInstanceDocument.Record(d), new DateTimeOffset(d[time].ToUniversalTime()))).ToList();
    }

    public async Task<IReadOnlyList<PeriodStatistics>> AggregateAsync(TemporalAggregateRequest request, CancellationToken cancellationToken)
    {
        if (request.EntityIds.Count == 0 || request.Attributes is { Count: 0 }) return [];
        if (request.TimeProperty is not (TemporalTimeProperty.ObservedAt or TemporalTimeProperty.CreatedAt))
            throw new ArgumentException("aggregation in the store covers observedAt and createdAt windows", nameof(request));
        var pipeline = MongoTemporalPipelines.Aggregate(request, await VisibleAsync(request.EntityIds, cancellationToken));
        var docs = await (await _instances.AggregateAsync<BsonDocument>(pipeline, Spillable, cancellationToken)).ToListAsync(cancellationToken);
        return docs.Select(MongoTemporalPipelines.Statistics).ToList();
    }

    /// <summary>
    /// No pre-aggregated buckets in MongoDB yet (issue 12 item 6): aggregations take the $group pipeline
    /// (<see cref="AggregateAsync"/>) or the in-memory path, as before.
    /// </summary>
    public Task<IReadOnlyList<BucketStatistics>?> ReadBucketsAsync(TemporalBucketRequest request, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<BucketStatistics>?>(null);

    public async Task<DeletedEntity?> GetDeletedEntityAsync(string entityId, CancellationToken cancellationToken)
    {
        var doc = await _deleted.Find(Id(entityId)).FirstOrDefaultAsync(cancellationToken);
        return doc is null ? null : new DeletedEntity(EntityJson.Deserialize(doc["doc"].AsString), new DateTimeOffset(doc["deletedAt"].ToUniversalTime()));
    }

    public Task<(T Result, long Purged)> WriteAndPurgeAsync<T>(string entityId, Func<Entity?, EntityWrite<T>> decide, HistoryPurge purge, CancellationToken cancellationToken) =>
        WriteCoreAsync(entityId, decide, purge, cancellationToken);

    /// <summary>
    /// The purge half of a Delete Temporal Entity / Attribute, in the write's transaction: counts the rows it removes and commits
    /// a purge marker (and drops the deleted-entity record), so the transaction stays small however long the history is; every
    /// read leaves the covered rows out from the commit on, and <see cref="MongoHistoryMaintenance"/> deletes them afterwards.
    /// </summary>
    private async Task<long> MarkPurgeAsync(IClientSessionHandle s, string entityId, HistoryPurge purge, CancellationToken ct)
    {
        var upTo = await NextSequenceAsync(s, ct); // after the write's own rows: the purge covers everything committed before it
        var marker = MongoHistoryMarkers.PurgeMarker(entityId, purge, upTo);
        var rows = MongoHistoryMarkers.Covered(marker);
        rows.AddRange(MongoHistoryMarkers.Visible(await _markers.Find(s, new BsonDocument(MongoInstanceDocument.Entity, entityId)).ToListAsync(ct)));
        var purged = await _instances.CountDocumentsAsync(s, rows, cancellationToken: ct);
        if (purged > 0) await _markers.InsertOneAsync(s, marker, cancellationToken: ct);
        if (purge.Attribute is null) purged += (await _deleted.DeleteOneAsync(s, Id(entityId), cancellationToken: ct)).DeletedCount;
        return purged;
    }

    /// <summary>Time series updates are limited to the metaField; this is a regular collection, so one instance is updated in place by its id.</summary>
    public async Task<bool> ReplaceInstanceAsync(string entityId, string attribute, string instanceId, JsonObject instance, DateTimeOffset modifiedAt, CancellationToken cancellationToken)
    {
        var filter = InstanceFilter(entityId, attribute, instanceId);
        filter.Add(MongoInstanceDocument.Kind, new BsonDocument("$ne", nameof(AttributeChangeKind.Deleted)));
        filter.AddRange(await VisibleAsync([entityId], cancellationToken));
        return (await _instances.UpdateOneAsync(filter, MongoInstanceDocument.Replacement(instance, modifiedAt), cancellationToken: cancellationToken)).MatchedCount > 0;
    }

    public async Task<bool> DeleteInstanceAsync(string entityId, string attribute, string instanceId, CancellationToken cancellationToken)
    {
        var filter = InstanceFilter(entityId, attribute, instanceId);
        filter.AddRange(await VisibleAsync([entityId], cancellationToken));
        return (await _instances.DeleteOneAsync(filter, cancellationToken)).DeletedCount > 0;
    }

    private static BsonDocument InstanceFilter(string entityId, string attribute, string instanceId) => new()
    {
        { "_id", instanceId }, { MongoInstanceDocument.Entity, entityId }, { MongoInstanceDocument.Attribute, attribute },
    };

    /// <summary>What a history read of these entities may see, given their markers (usually none: one index look-up).</summary>
    private async Task<BsonDocument> VisibleAsync(IReadOnlyList<string> entityIds, CancellationToken ct)
    {
        var ids = new BsonArray(entityIds.Distinct(StringComparer.Ordinal));
        var markers = await _markers.Find(new BsonDocument(MongoInstanceDocument.Entity, new BsonDocument("$in", ids))).ToListAsync(ct);
        return MongoHistoryMarkers.Visible(markers);
    }
}
