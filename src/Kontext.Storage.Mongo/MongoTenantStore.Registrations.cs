using Kontext.Ngsi.Storage;
using Kontext.Ngsi.Subscriptions;
using MongoDB.Bson;
using MongoDB.Driver;

namespace Kontext.Storage.Mongo;

/// <summary>
/// Context source registrations and registration subscriptions (the federation facet). A registration write is one
/// transaction: the registration, the notifications it causes (outbox, shared with entity subscriptions, sequence from
/// the outbox counter) and the subscriptions' lastNotification. A concurrent create of the same id loses on the unique
/// _id and runs again, its decide then seeing the registration that won.
/// </summary>
internal sealed partial class MongoTenantStore : IRegistrationStore
{
    public IRegistrationStore Registrations => this;

    private IMongoCollection<BsonDocument> RegistrationDocuments => _database.GetCollection<BsonDocument>(MongoSchema.Registrations);

    private IMongoCollection<BsonDocument> RegistrationSubscriptions => _database.GetCollection<BsonDocument>(MongoSchema.RegistrationSubscriptions);

    private static readonly BsonDocument CreationOrder = new() { { "createdAt", 1 }, { "_id", 1 } };

    public async Task<IReadOnlyList<StoredRegistration>> ListRegistrationsAsync(CancellationToken cancellationToken)
    {
        var docs = await RegistrationDocuments.Find(FilterDefinition<BsonDocument>.Empty).Sort(CreationOrder).ToListAsync(cancellationToken);
        return docs.Select(Registration).ToList();
    }

    public async Task<StoredRegistration?> GetRegistrationAsync(string id, CancellationToken cancellationToken)
    {
        var doc = await RegistrationDocuments.Find(Id(id)).FirstOrDefaultAsync(cancellationToken);
        return doc is null ? null : Registration(doc);
    }

    private static StoredRegistration Registration(BsonDocument d) => new(
        d["_id"].AsString, d["doc"].AsString,
        new RegistrationStatus(d.GetValue("timesSent", 0).ToInt64(), d.GetValue("timesFailed", 0).ToInt64(), Time(d, "lastSuccess"), Time(d, "lastFailure")),
        new DateTimeOffset(d["createdAt"].ToUniversalTime()), new DateTimeOffset(d["modifiedAt"].ToUniversalTime()));

    public Task<T> WriteRegistrationAsync<T>(string id, Func<StoredRegistration?, RegistrationWrite<T>> decide, CancellationToken cancellationToken) =>
        InTransactionAsync(async (s, ct) =>
        {
            var doc = await RegistrationDocuments.Find(s, Id(id)).FirstOrDefaultAsync(ct);
            var write = decide(doc is null ? null : Registration(doc));
            if (!write.Write) return write.Result;
            await PutAsync(s, RegistrationDocuments, doc, id, write.Document, new BsonDocument { { "timesSent", 0L }, { "timesFailed", 0L } }, ct);
            await AppendRegistrationNotificationsAsync(s, write.Notifications, ct);
            return write.Result;
        }, cancellationToken);

    public Task RecordForwardingAsync(string id, bool succeeded, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var time = at.UtcDateTime;
        var update = succeeded
            ? new BsonDocument { { "$inc", new BsonDocument("timesSent", 1L) }, { "$set", new BsonDocument("lastSuccess", time) } }
            : new BsonDocument { { "$inc", new BsonDocument { { "timesSent", 1L }, { "timesFailed", 1L } } }, { "$set", new BsonDocument("lastFailure", time) } };
        return RegistrationDocuments.UpdateOneAsync(Id(id), update, cancellationToken: cancellationToken);
    }

    public async Task<IReadOnlyList<StoredSubscription>> ListRegistrationSubscriptionsAsync(CancellationToken cancellationToken)
    {
        var docs = await RegistrationSubscriptions.Find(FilterDefinition<BsonDocument>.Empty).Sort(CreationOrder).ToListAsync(cancellationToken);
        return docs.Select(Subscription).ToList();
    }

    public async Task<StoredSubscription?> GetRegistrationSubscriptionAsync(string id, CancellationToken cancellationToken)
    {
        var doc = await RegistrationSubscriptions.Find(Id(id)).FirstOrDefaultAsync(cancellationToken);
        return doc is null ? null : Subscription(doc);
    }

    public async Task<T> WriteRegistrationSubscriptionAsync<T>(string id, Func<StoredSubscription?, RegistrationSubscriptionWrite<T>> decide, CancellationToken cancellationToken)
    {
        var dropsPending = false;
        var result = await InTransactionAsync(async (s, ct) =>
        {
            var doc = await RegistrationSubscriptions.Find(s, Id(id)).FirstOrDefaultAsync(ct);
            var write = decide(doc is null ? null : Subscription(doc));
            if (!write.Write) return write.Result;
            await PutAsync(s, RegistrationSubscriptions, doc, id, write.Document, new BsonDocument { { "timesSent", 0L }, { "timesFailed", 0L } }, ct);
            await AppendRegistrationNotificationsAsync(s, write.Notifications, ct);
            dropsPending = write.Document is null || write.DropsPending;
            return write.Result;
        }, cancellationToken);
        // Its pending notifications go after the commit, like an entity subscription's: a long backlog must not make the
        // transaction modify more than MongoDB's recommended 1,000 documents.
        if (dropsPending) await _outbox.DeleteManyAsync(MongoOutbox.Of(RegistrationSubscriptionKey.ForOutbox(id)), cancellationToken);
        return result;
    }

    private async Task<T> InTransactionAsync<T>(Func<IClientSessionHandle, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                using var session = await _client.StartSessionAsync(cancellationToken: cancellationToken);
                return await session.WithTransactionAsync(work, cancellationToken: cancellationToken);
            }
            catch (Exception e) when (IsConflict(e) && attempt < MaxAttempts)
            {
                await Task.Delay(Random.Shared.Next(1, 5 * Math.Min(attempt, 10)), cancellationToken);
            }
        }
    }

    /// <summary>Inserts, replaces the document of, or deletes (null) the record read in the same transaction.</summary>
    private static async Task PutAsync(IClientSessionHandle s, IMongoCollection<BsonDocument> collection, BsonDocument? current, string id, string? document,
        BsonDocument counters, CancellationToken ct)
    {
        var now = DateTime.UtcNow;
        if (document is null)
        {
            if (current is not null) await collection.DeleteOneAsync(s, Id(id), cancellationToken: ct);
            return;
        }
        if (current is null)
        {
            var insert = new BsonDocument { { "_id", id }, { "doc", document }, { "createdAt", now }, { "modifiedAt", now } };
            insert.AddRange(counters);
            await collection.InsertOneAsync(s, insert, cancellationToken: ct);
            return;
        }
        await collection.UpdateOneAsync(s, Id(id), new BsonDocument("$set", new BsonDocument { { "doc", document }, { "modifiedAt", now } }), cancellationToken: ct);
    }

    private async Task AppendRegistrationNotificationsAsync(IClientSessionHandle s, IReadOnlyList<OutboxMessage> messages, CancellationToken ct)
    {
        if (messages.Count == 0) return;
        var last = await NextSequenceAsync(s, ct, "outbox", messages.Count);
        var docs = messages.Select((m, i) => MongoOutbox.Message(last - messages.Count + 1 + i, m.SubscriptionId, m.Endpoint, m.Request, m.CreatedAt.UtcDateTime));
        var kept = await SubscribedOnlyAsync(s, RegistrationSubscriptions, docs,
            key => RegistrationSubscriptionKey.TryRead(key, out var subscriptionId) ? subscriptionId : null, ct);
        if (kept.Count > 0) await _outbox.InsertManyAsync(s, kept, cancellationToken: ct);
    }
}
