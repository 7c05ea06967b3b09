using MongoDB.Bson;

namespace Kontext.Storage.Mongo;

/// <summary>
/// The outbox documents and the lease protocol (D5 with several processes). A message is { _id: sequence, sub, endpoint,
/// request, attempts, createdAt, due, leaseOwner, leaseToken, leaseUntil }. A dispatcher claims due messages whose lease is
/// free or expired by stamping its owner, a fresh token and leaseUntil in one update; the update re-checks the claim
/// condition per document, so of two processes racing for a message exactly one gets it. A claimed message is invisible
/// to others until delivered (deleted), rescheduled (lease cleared) or its lease expires (its owner died).
/// </summary>
public static class MongoOutbox
{
    public static readonly DateTime NoLease = DateTime.UnixEpoch;

    /// <summary>Due and not leased by anyone alive.</summary>
    public static BsonDocument Claimable(DateTime now) => new()
    {
        { "due", new BsonDocument("$lte", now) },
        { "leaseUntil", new BsonDocument("$lt", now) },
    };

    public static BsonDocument ClaimFilter(IEnumerable<long> ids, DateTime now)
    {
        var filter = new BsonDocument("_id", new BsonDocument("$in", new BsonArray(ids)));
        filter.AddRange(Claimable(now));
        return filter;
    }

    public static BsonDocument Claim(string owner, string token, DateTime leaseUntil) =>
        new("$set", new BsonDocument { { "leaseOwner", owner }, { "leaseToken", token }, { "leaseUntil", leaseUntil } });

    /// <summary>A failed attempt: count it, schedule the next one, give the lease up.</summary>
    public static BsonDocument Reschedule(DateTime retryAt) => new()
    {
        { "$inc", new BsonDocument("attempts", 1) },
        { "$set", new BsonDocument { { "due", retryAt }, { "leaseOwner", BsonNull.Value }, { "leaseToken", BsonNull.Value }, { "leaseUntil", NoLease } } },
    };

    public static BsonDocument Message(long seq, string subscriptionId, string endpoint, string request, DateTime createdAt) => new()
    {
        { "_id", seq }, { "sub", subscriptionId }, { "endpoint", endpoint }, { "request", request }, { "attempts", 0 },
        { "createdAt", createdAt }, { "due", createdAt }, { "leaseOwner", BsonNull.Value }, { "leaseToken", BsonNull.Value }, { "leaseUntil", NoLease },
    };
}
