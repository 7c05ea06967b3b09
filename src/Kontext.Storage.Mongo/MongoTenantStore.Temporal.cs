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
    /// The pre-aggregated buckets (<see cref="MongoBuckets"/>): one range of the (e, a, g, ds, s) index. Null, so the broker
    /// aggregates the instances instead, until the backfill has run and while one of the entities has history markers (a
    /// staged write or a purge whose buckets the maintenance has not yet rebuilt).
    /// </summary>
    public async Task<IReadOnlyList<BucketStatistics>?> ReadBucketsAsync(TemporalBucketRequest request, CancellationToken cancellationToken)
    {
        if (request.EntityIds.Count == 0 || request.Attributes is { Count: 0 } || request.To <= request.From) return [];
        if (!await _rebuild.IsBuiltAsync(cancellationToken)) return null;
        var ids = new BsonArray(request.EntityIds.Distinct(StringComparer.Ordinal));
        if (await _markers.Find(new BsonDocument(MongoInstanceDocument.Entity, new BsonDocument("$in", ids))).AnyAsync(cancellationToken)) return null;
        var docs = await _buckets.Find(MongoBuckets.Filter(request)).Sort(MongoBuckets.Order).ToListAsync(cancellationToken);
        return docs.Select(MongoBuckets.Statistics).ToList();
    }

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

    /// <summary>
    /// One instance updated in place by its id (a regular collection), in one transaction with the rebuild of the days it
    /// leaves and enters (its time, and even its datasetId, may change).
    /// </summary>
    public async Task<bool> ReplaceInstanceAsync(string entityId, string attribute, string instanceId, JsonObject instance, DateTimeOffset modifiedAt, CancellationToken cancellationToken)
    {
        var update = MongoInstanceDocument.Replacement(instance, modifiedAt);
        return await InstanceTransactionAsync(entityId, attribute, instanceId, excludeDeleted: true, async (s, before, ct) =>
        {
            await _instances.UpdateOneAsync(s, Id(instanceId), update, cancellationToken: ct);
            var after = before.DeepClone().AsBsonDocument;
            after.Remove("num");
            after.Remove("str");
            after.Merge(update["$set"].AsBsonDocument, overwriteExistingElements: true);
            return [before, after];
        }, cancellationToken);
    }

    public Task<bool> DeleteInstanceAsync(string entityId, string attribute, string instanceId, CancellationToken cancellationToken) =>
        InstanceTransactionAsync(entityId, attribute, instanceId, excludeDeleted: false, async (s, before, ct) =>
        {
            await _instances.DeleteOneAsync(s, Id(instanceId), cancellationToken: ct);
            return [before];
        }, cancellationToken);

    /// <summary>
    /// Finds the visible instance, changes it (<paramref name="change"/> returns its rows before and after) and rebuilds the
    /// buckets of their days, in one transaction; false when there is no such instance.
    /// </summary>
    private async Task<bool> InstanceTransactionAsync(string entityId, string attribute, string instanceId, bool excludeDeleted,
        Func<IClientSessionHandle, BsonDocument, CancellationToken, Task<BsonDocument[]>> change, CancellationToken cancellationToken)
    {
        using var session = await _client.StartSessionAsync(cancellationToken: cancellationToken);
        return await session.WithTransactionAsync(async (s, ct) =>
        {
            var filter = InstanceFilter(entityId, attribute, instanceId);
            if (excludeDeleted) filter.Add(MongoInstanceDocument.Kind, new BsonDocument("$ne", nameof(AttributeChangeKind.Deleted)));
            filter.AddRange(MongoHistoryMarkers.Visible(await _markers.Find(s, new BsonDocument(MongoInstanceDocument.Entity, entityId)).ToListAsync(ct)));
            var before = await _instances.Find(s, filter).FirstOrDefaultAsync(ct);
            if (before is null) return false;
            var rows = await change(s, before, ct);
            await _rebuild.RebuildAsync(s, MongoBucketRebuild.DaysOf(rows.Where(MongoBuckets.IsSample)), ct);
            return true;
        }, cancellationToken: cancellationToken);
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
