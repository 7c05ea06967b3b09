using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using MongoDB.Bson;
using MongoDB.Driver;

namespace Kontext.Storage.Mongo;

/// <summary>
/// Writes without transactions (a standalone mongod), ordered so an acknowledged write is never lost:
/// <list type="number">
/// <item>allocate the change sequence (atomic $inc);</item>
/// <item>write the entity document under its version filter WITH a <c>pending</c> member holding the change-log entry,
/// the history rows and the deleted-entity record (one document write is atomic: this is the commit point);
/// a delete only marks the document (pending.op = "delete"), which reads already treat as absent;</item>
/// <item>copy the pending entries to changes / attributeInstances / deletedEntities (idempotent: change _id = sequence,
/// instances by instanceId);</item>
/// <item>clear pending (or delete the marked document) — only then is the write acknowledged.</item>
/// </list>
/// A crash after 2 leaves the pending member; it is completed at start-up, by the next write to the entity, or by the
/// change-log reader when it finds the gap. A crash before 2 leaves only an unused sequence number, a gap the reader passes
/// after <see cref="MongoStoreOptions.ChangeGapTimeout"/>.
/// </summary>
internal sealed partial class MongoTenantStore
{
    private static bool IsPendingDelete(BsonDocument doc) =>
        doc.TryGetValue("pending", out var p) && p.IsBsonDocument && p["op"] == "delete";

    private async Task<T> ApplyStandaloneAsync<T>(string entityId, Func<Entity?, EntityWrite<T>> decide, CancellationToken ct)
    {
        var beforeDoc = await _entities.Find(Id(entityId)).FirstOrDefaultAsync(ct);
        if (beforeDoc is not null && beforeDoc.Contains("pending"))
        {
            await CompletePendingAsync(beforeDoc, ct);
            beforeDoc = await _entities.Find(Id(entityId)).FirstOrDefaultAsync(ct);
        }
        var current = beforeDoc is null ? null : MongoEntityDocument.FromBson(beforeDoc);
        var beforeJson = current is null ? null : Json(current);
        var write = decide(current);
        if (write.Kind == EntityWriteKind.None) return write.Result;
        if (write.Kind == EntityWriteKind.Delete && beforeDoc is null) return write.Result;

        var seq = await NextSequenceAsync(null, ct);
        var at = DateTimeOffset.UtcNow;
        BsonDocument written;
        if (write.Kind == EntityWriteKind.Delete)
        {
            var pending = Pending(seq, "delete", ChangeDoc(seq, entityId, "delete", at, beforeJson, null), DeletionMarkers(current!, seq, at), DeletedDoc(entityId, beforeJson!, at));
            var marked = await _entities.UpdateOneAsync(Versioned(beforeDoc!),
                new BsonDocument { { "$set", new BsonDocument("pending", pending) }, { "$inc", new BsonDocument("v", 1) } }, cancellationToken: ct);
            if (marked.MatchedCount == 0) throw new VersionConflictException();
            written = beforeDoc!;
            written["pending"] = pending;
        }
        else
        {
            var after = write.After ?? throw new InvalidOperationException("An upsert needs the entity's new state");
            var op = beforeDoc is null ? "create" : "update";
            written = MongoEntityDocument.ToBson(after, beforeDoc?["seq"].ToInt64() ?? seq, (beforeDoc?["v"].ToInt64() ?? 0) + 1);
            written["pending"] = Pending(seq, op, ChangeDoc(seq, after.Id, op, at, beforeJson, Json(after)), Instances(after.Id, write.Changes, after.ModifiedAt, seq), null);
            await PutEntityAsync(null, beforeDoc, written, ct);
        }
        await CompletePendingAsync(written, ct);
        return write.Result;
    }

    private static BsonDocument Pending(long seq, string op, BsonDocument change, IEnumerable<BsonDocument> instances, BsonDocument? deleted)
    {
        var pending = new BsonDocument { { "seq", seq }, { "op", op }, { "change", change }, { "instances", new BsonArray(instances) } };
        if (deleted is not null) pending.Add("deleted", deleted);
        return pending;
    }

    /// <summary>Copies a document's pending entries to their collections, then clears the marker. Safe to run twice, concurrently too.</summary>
    private async Task CompletePendingAsync(BsonDocument doc, CancellationToken ct)
    {
        var pending = doc["pending"].AsBsonDocument;
        var seq = pending["seq"].ToInt64();
        var change = pending["change"].AsBsonDocument;
        await _changes.ReplaceOneAsync(new BsonDocument("_id", seq), change, new ReplaceOptions { IsUpsert = true }, ct);
        foreach (var instance in pending["instances"].AsBsonArray.Select(i => i.AsBsonDocument))
        {
            // Time-series collections have no unique index: look before inserting.
            if (!await _instances.Find(new BsonDocument { { "meta.e", instance["meta"]["e"] }, { "iid", instance["iid"] } }).AnyAsync(ct))
                await _instances.InsertOneAsync(instance, cancellationToken: ct);
        }
        var id = doc["_id"].AsString;
        var marker = new BsonDocument { { "_id", id }, { "pending.seq", seq } };
        if (pending["op"] == "delete")
        {
            await _deleted.ReplaceOneAsync(Id(id), pending["deleted"].AsBsonDocument, new ReplaceOptions { IsUpsert = true }, ct);
            await _entities.DeleteOneAsync(marker, ct);
        }
        else
        {
            if (pending["op"] == "create") await _deleted.DeleteOneAsync(Id(id), ct);
            await _entities.UpdateOneAsync(marker, new BsonDocument("$unset", new BsonDocument("pending", "")), cancellationToken: ct);
        }
    }

    /// <summary>Completes the writes whose sequence lies in [from, to); returns how many there were.</summary>
    private async Task<int> CompletePendingAsync(long from, long to, CancellationToken ct)
    {
        var docs = await _entities.Find(new BsonDocument("pending.seq", new BsonDocument { { "$gte", from }, { "$lt", to } })).ToListAsync(ct);
        foreach (var doc in docs) await CompletePendingAsync(doc, ct);
        return docs.Count;
    }

    private async Task CompleteAllPendingAsync(CancellationToken ct)
    {
        var docs = await _entities.Find(new BsonDocument("pending", new BsonDocument("$exists", true))).ToListAsync(ct);
        foreach (var doc in docs) await CompletePendingAsync(doc, ct);
    }
}
