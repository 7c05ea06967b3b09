using MongoDB.Bson;

namespace Kontext.Storage.Mongo;

/// <summary>
/// The outbox documents and the lease protocol (D5 with several processes). A message is { _id: sequence, sub, endpoint,
/// request, attempts, createdAt, due, leaseOwner, leaseToken, leaseUntil }. A dispatcher claims due messages whose lease is
/// free or expired by stamping its owner, a fresh token and leaseUntil in one update; the update re-checks the claim
/// condition per document, so of two processes racing for a message exactly one gets it. A claimed message is invisible
/// to others until it is delivered (deleted) or its lease expires (its owner died or fell behind). The owner renews the
/// lease before every attempt, and the renewal only succeeds while the owner is still the owner, so a message taken
/// over by another process is dropped by the first, never sent by both. A failed attempt keeps the lease until the
/// retry time plus one lease: the owner retries it itself, in order with the subscription's later messages.
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

    /// <summary>The message, as long as <paramref name="owner"/> holds it.</summary>
    public static BsonDocument Owned(long sequence, string owner) => new() { { "_id", sequence }, { "leaseOwner", owner } };

    /// <summary>Those of the messages that <paramref name="owner"/> holds.</summary>
    public static BsonDocument OwnedAll(IEnumerable<long> sequences, string owner) =>
        new() { { "_id", new BsonDocument("$in", new BsonArray(sequences)) }, { "leaseOwner", owner } };

    /// <summary>The owner keeps the message for another lease.</summary>
    public static BsonDocument Renew(DateTime leaseUntil) => new("$set", new BsonDocument("leaseUntil", leaseUntil));

    /// <summary>A failed attempt: count it and schedule the next; the owner keeps the lease over the wait (it retries itself).</summary>
    public static BsonDocument Reschedule(DateTime retryAt, TimeSpan lease) => new()
    {
        { "$inc", new BsonDocument("attempts", 1) },
        { "$set", new BsonDocument { { "due", retryAt }, { "leaseUntil", retryAt + lease } } },
    };

    /// <summary>Every message of a subscription (its outbox key): what its deletion or pause removes.</summary>
    public static BsonDocument Of(string outboxKey) => new("sub", outboxKey);

    /// <summary>
    /// An append's write of a subscription's document: its lastNotification, and a count that makes the write change the
    /// document every time (a write that changes nothing is no write, and would not conflict with the deletion it must be
    /// ordered with).
    /// </summary>
    public static BsonDocument Appended(DateTime latest) => new()
    {
        { "$max", new BsonDocument("lastNotification", latest) }, { "$inc", new BsonDocument("outboxAppends", 1L) },
    };

    public static BsonDocument Message(long seq, string subscriptionId, string endpoint, string request, DateTime createdAt) => new()
    {
        { "_id", seq }, { "sub", subscriptionId }, { "endpoint", endpoint }, { "request", request }, { "attempts", 0 },
        { "createdAt", createdAt }, { "due", createdAt }, { "leaseOwner", BsonNull.Value }, { "leaseToken", BsonNull.Value }, { "leaseUntil", NoLease },
    };
}
