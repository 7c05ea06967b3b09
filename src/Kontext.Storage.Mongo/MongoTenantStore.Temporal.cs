using System.Text.Json.Nodes;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using MongoDB.Bson;
using MongoDB.Driver;

namespace Kontext.Storage.Mongo;

/// <summary>The Temporal API's reads and writes over the attributeInstances time series (issue 5).</summary>
internal sealed partial class MongoTenantStore
{
    public async Task<IReadOnlyList<TemporalInstance>> ReadInstancesAsync(TemporalReadRequest request, CancellationToken cancellationToken)
    {
        if (request.EntityIds.Count == 0 || request.PerAttributeLimit <= 0 || request.Attributes is { Count: 0 }) return [];
        var time = MongoTemporalPipelines.TimeField(request.TimeProperty);
        var docs = await _instances.Aggregate<BsonDocument>(MongoTemporalPipelines.ReadInstances(request), cancellationToken: cancellationToken).ToListAsync(cancellationToken);
        return docs.Select(d => new TemporalInstance(Record(d), new DateTimeOffset(d[time].ToUniversalTime()))).ToList();
    }

    public async Task<IReadOnlyList<PeriodStatistics>> AggregateAsync(TemporalAggregateRequest request, CancellationToken cancellationToken)
    {
        if (request.EntityIds.Count == 0 || request.Attributes is { Count: 0 }) return [];
        if (request.TimeProperty is not (TemporalTimeProperty.ObservedAt or TemporalTimeProperty.CreatedAt))
            throw new ArgumentException("aggregation in the store covers observedAt and createdAt windows", nameof(request));
        var docs = await _instances.Aggregate<BsonDocument>(MongoTemporalPipelines.Aggregate(request), cancellationToken: cancellationToken).ToListAsync(cancellationToken);
        return docs.Select(MongoTemporalPipelines.Statistics).ToList();
    }

    public async Task<DeletedEntity?> GetDeletedEntityAsync(string entityId, CancellationToken cancellationToken)
    {
        var doc = await _deleted.Find(Id(entityId)).FirstOrDefaultAsync(cancellationToken);
        return doc is null ? null : new DeletedEntity(EntityJson.Deserialize(doc["doc"].AsString), new DateTimeOffset(doc["deletedAt"].ToUniversalTime()));
    }

    public async Task<(T Result, long Purged)> WriteAndPurgeAsync<T>(string entityId, Func<Entity?, EntityWrite<T>> decide, HistoryPurge purge, CancellationToken cancellationToken)
    {
        long purged = 0;
        var result = await WriteCoreAsync(entityId, decide, async (s, ct) =>
        {
            var filter = MongoTemporalPipelines.Purge(entityId, purge);
            purged = (s is null ? await _instances.DeleteManyAsync(filter, ct) : await _instances.DeleteManyAsync(s, filter, cancellationToken: ct)).DeletedCount;
            if (purge.Attribute is null)
                purged += (s is null ? await _deleted.DeleteOneAsync(Id(entityId), ct) : await _deleted.DeleteOneAsync(s, Id(entityId), cancellationToken: ct)).DeletedCount;
        }, cancellationToken);
        return (result, purged);
    }

    public async Task<bool> ReplaceInstanceAsync(string entityId, string attribute, string instanceId, JsonObject instance, DateTimeOffset modifiedAt, CancellationToken cancellationToken)
    {
        DateTime? observed = instance["observedAt"] is JsonValue v && v.TryGetValue<string>(out var text) && Validate.TryParseDateTime(text, out var o) ? o.UtcDateTime : null;
        var filter = new BsonDocument { { "meta.e", entityId }, { "meta.a", attribute }, { "iid", instanceId }, { "kind", new BsonDocument("$ne", "Deleted") } };
        var set = new BsonDocument
        {
            { "doc", instance.ToJsonString() }, { "obs", observed is { } d ? new BsonDateTime(d) : BsonNull.Value },
            { "mod", modifiedAt.UtcDateTime }, { "ds", (BsonValue?)Attr.DatasetId(instance) ?? BsonNull.Value },
        };
        set.AddRange(MongoTemporalPipelines.SampleFields(instance));
        var unset = new BsonDocument(new[] { "num", "str" }.Where(f => !set.Contains(f)).Select(f => new BsonElement(f, "")));
        var update = new BsonDocument("$set", set);
        if (unset.ElementCount > 0) update.Add("$unset", unset);
        // Time-series collections accept updates of measurement fields (MongoDB 7+); updateMany is the form every 7.x accepts.
        return (await _instances.UpdateManyAsync(filter, update, cancellationToken: cancellationToken)).MatchedCount > 0;
    }

    public async Task<bool> DeleteInstanceAsync(string entityId, string attribute, string instanceId, CancellationToken cancellationToken) =>
        (await _instances.DeleteManyAsync(new BsonDocument { { "meta.e", entityId }, { "meta.a", attribute }, { "iid", instanceId } }, cancellationToken)).DeletedCount > 0;
}
