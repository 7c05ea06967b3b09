using Kontext.Ngsi.Storage;
using MongoDB.Bson;

namespace Kontext.Storage.Mongo;

/// <summary>
/// Small documents in <c>historyMarkers</c> that let the history stay all-or-nothing while no transaction grows beyond
/// <see cref="MongoStoreOptions.MaxTransactionBytes"/>:
/// <list type="bullet">
/// <item><b>purge</b> <c>{ kind: "purge", e, a?, ds?, upTo }</c>: committed in the transaction of a Delete Temporal
/// Entity / Attribute instead of deleting an unbounded number of rows there. Every history read leaves out the rows it
/// covers (the purge's rows with seq ≤ upTo); after the commit they are deleted in batches and the marker goes.</item>
/// <item><b>write</b> <c>{ _id: writeId, kind: "write", e }</c>: a write whose history is larger than one transaction
/// inserts its rows first, outside the transaction, with <c>w: writeId</c>, which every read treats as absent; the
/// transaction that commits the entity and its change also inserts this marker, from which moment reads include the
/// rows. Afterwards <c>w</c> is removed and the marker goes. Rows of a write that never committed keep their
/// <c>w</c>, stay invisible and are deleted (MongoHistoryMaintenance).</item>
/// </list>
/// A read asks for the markers of its entities first (usually none: one index look-up) and adds <see cref="Visible"/>
/// to its filter.
/// </summary>
public static class MongoHistoryMarkers
{
    public const string Kind = "kind", Purge = "purge", Write = "write", UpTo = "upTo", AnyDataset = "anyDs";

    public static BsonDocument PurgeMarker(string entityId, HistoryPurge purge, long upTo)
    {
        var marker = new BsonDocument { { Kind, Purge }, { MongoInstanceDocument.Entity, entityId } };
        if (purge.Attribute is not null)
        {
            marker.Add(MongoInstanceDocument.Attribute, purge.Attribute);
            if (!purge.AnyDataset) marker.Add(MongoInstanceDocument.Dataset, (BsonValue?)purge.DatasetId ?? BsonNull.Value);
        }
        marker.Add(UpTo, upTo);
        return marker;
    }

    public static BsonDocument WriteMarker(string writeId, string entityId) =>
        new() { { "_id", writeId }, { Kind, Write }, { MongoInstanceDocument.Entity, entityId } };

    /// <summary>The history rows a purge marker covers.</summary>
    public static BsonDocument Covered(BsonDocument purge)
    {
        var rows = new BsonDocument(MongoInstanceDocument.Entity, purge[MongoInstanceDocument.Entity]);
        if (purge.TryGetValue(MongoInstanceDocument.Attribute, out var attribute)) rows.Add(MongoInstanceDocument.Attribute, attribute);
        if (purge.TryGetValue(MongoInstanceDocument.Dataset, out var dataset)) rows.Add(MongoInstanceDocument.Dataset, dataset);
        rows.Add(MongoInstanceDocument.Sequence, new BsonDocument("$lte", purge[UpTo]));
        return rows;
    }

    /// <summary>
    /// The condition a history row must meet to be read, given the markers of its entities: no pending write id unless that
    /// write committed (<c>w: {$in: [null, …]}</c>; null also matches a missing field), and not covered by a purge.
    /// </summary>
    public static BsonDocument Visible(IEnumerable<BsonDocument> markers)
    {
        var committed = new BsonArray { BsonNull.Value };
        var purged = new BsonArray();
        foreach (var marker in markers)
        {
            if (marker[Kind] == Write) committed.Add(marker["_id"]);
            else purged.Add(Covered(marker));
        }
        var visible = new BsonDocument(MongoInstanceDocument.PendingWrite, committed.Count == 1 ? BsonNull.Value : new BsonDocument("$in", committed));
        if (purged.Count > 0) visible.Add("$nor", purged);
        return visible;
    }
}
