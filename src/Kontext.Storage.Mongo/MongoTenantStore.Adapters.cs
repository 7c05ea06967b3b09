using System.Globalization;
using Kontext.Ngsi.Storage;
using MongoDB.Bson;
using MongoDB.Driver;

namespace Kontext.Storage.Mongo;

/// <summary>
/// The adapters' facet in the tenant database, shared by every instance: each operation touches one document, so none needs a
/// transaction. A claim is one conditional upsert keyed by (frame counter, device): it matches only a claim older than the
/// window (and renews it); a fresh one makes the upsert's insert fail on the unique _id (the server does not retry an upsert
/// whose filter is more than equality on _id), which is the duplicate. Of two instances claiming at once, exactly one wins.
/// </summary>
internal sealed partial class MongoTenantStore : IAdapterStore
{
    public IAdapterStore Adapters => this;

    private IMongoCollection<BsonDocument> Uplinks => _database.GetCollection<BsonDocument>(MongoSchema.AdapterUplinks);

    private IMongoCollection<BsonDocument> DeadLetters => _database.GetCollection<BsonDocument>(MongoSchema.DeadLetters);

    private IMongoCollection<BsonDocument> ValidationModes => _database.GetCollection<BsonDocument>(MongoSchema.ValidationModes);

    /// <summary>Newest first; ties (one tick) broken by id so a listing is stable.</summary>
    private static readonly BsonDocument NewestFirst = new() { { "t", -1 }, { "_id", -1 } };

    private static string ClaimKey(string device, long frameCounter) => frameCounter.ToString(CultureInfo.InvariantCulture) + " " + device;

    public async Task<bool> TryClaimUplinkAsync(string device, long frameCounter, DateTimeOffset now, TimeSpan window, CancellationToken cancellationToken)
    {
        var filter = new BsonDocument { { "_id", ClaimKey(device, frameCounter) }, { "at", new BsonDocument("$lt", (now - window).ToUnixTimeMilliseconds()) } };
        var update = new BsonDocument
        {
            { "$set", new BsonDocument("at", now.ToUnixTimeMilliseconds()) },
            { "$setOnInsert", new BsonDocument { { "device", device }, { "fCnt", frameCounter } } },
        };
        try
        {
            await Uplinks.UpdateOneAsync(filter, update, new UpdateOptions { IsUpsert = true }, cancellationToken);
            return true;
        }
        catch (MongoWriteException e) when (MongoErrors.Code(e) == MongoErrors.DuplicateKey)
        {
            return false;
        }
    }

    public Task ReleaseUplinkAsync(string device, long frameCounter, CancellationToken cancellationToken) =>
        Uplinks.DeleteOneAsync(Id(ClaimKey(device, frameCounter)), cancellationToken);

    private static BsonDocument DeadLetterDocument(DeadLetter l) => new()
    {
        { "_id", l.Id }, { "source", l.Source }, { "kind", l.Kind }, { "device", (BsonValue?)l.Device ?? BsonNull.Value }, { "reason", l.Reason },
        { "detail", l.Detail }, { "payload", l.Payload }, { "receivedAt", l.ReceivedAt.ToString("O", CultureInfo.InvariantCulture) },
        { "t", l.ReceivedAt.UtcTicks }, { "attempts", l.Attempts }, { "lastAttemptAt", l.LastAttemptAt.ToString("O", CultureInfo.InvariantCulture) },
        { "status", l.Status },
    };

    private DeadLetter DeadLetter(BsonDocument d) => new()
    {
        Id = d["_id"].AsString, Tenant = Name, Source = d["source"].AsString, Kind = d["kind"].AsString,
        Device = d["device"].IsBsonNull ? null : d["device"].AsString, Reason = d["reason"].AsString, Detail = d["detail"].AsString,
        Payload = d["payload"].AsString, ReceivedAt = DateTimeOffset.Parse(d["receivedAt"].AsString, CultureInfo.InvariantCulture),
        Attempts = d["attempts"].ToInt32(), LastAttemptAt = DateTimeOffset.Parse(d["lastAttemptAt"].AsString, CultureInfo.InvariantCulture),
        Status = d["status"].AsString,
    };

    public Task AddDeadLetterAsync(DeadLetter letter, CancellationToken cancellationToken) =>
        DeadLetters.InsertOneAsync(DeadLetterDocument(letter), cancellationToken: cancellationToken);

    public Task UpdateDeadLetterAsync(DeadLetter letter, CancellationToken cancellationToken) =>
        DeadLetters.ReplaceOneAsync(Id(letter.Id), DeadLetterDocument(letter), cancellationToken: cancellationToken);

    public async Task<DeadLetter?> GetDeadLetterAsync(string id, CancellationToken cancellationToken) =>
        await DeadLetters.Find(Id(id)).FirstOrDefaultAsync(cancellationToken) is { } doc ? DeadLetter(doc) : null;

    public async Task<IReadOnlyList<DeadLetter>> ListDeadLettersAsync(string? status, int limit, CancellationToken cancellationToken)
    {
        var filter = status is null ? new BsonDocument() : new BsonDocument("status", status);
        var docs = await DeadLetters.Find(filter).Sort(NewestFirst).Limit(limit).ToListAsync(cancellationToken);
        return docs.Select(DeadLetter).ToList();
    }

    public async Task<bool> DeleteDeadLetterAsync(string id, CancellationToken cancellationToken) =>
        (await DeadLetters.DeleteOneAsync(Id(id), cancellationToken)).DeletedCount == 1;

    public async Task<ValidationMode?> GetValidationModeAsync(string type, CancellationToken cancellationToken) =>
        await ValidationModes.Find(Id(type)).FirstOrDefaultAsync(cancellationToken) is { } doc
            ? Enum.Parse<ValidationMode>(doc["mode"].AsString, ignoreCase: true)
            : null;

    public Task SetValidationModeAsync(string type, ValidationMode? mode, CancellationToken cancellationToken) => mode is null
        ? ValidationModes.DeleteOneAsync(Id(type), cancellationToken)
        : ValidationModes.ReplaceOneAsync(Id(type), new BsonDocument { { "_id", type }, { "mode", mode.Value.ToString().ToLowerInvariant() } },
            new ReplaceOptions { IsUpsert = true }, cancellationToken);

    public async Task<IReadOnlyDictionary<string, ValidationMode>> ListValidationModesAsync(CancellationToken cancellationToken)
    {
        var docs = await ValidationModes.Find(new BsonDocument()).Sort(new BsonDocument("_id", 1)).ToListAsync(cancellationToken);
        return docs.ToDictionary(d => d["_id"].AsString, d => Enum.Parse<ValidationMode>(d["mode"].AsString, ignoreCase: true), StringComparer.Ordinal);
    }
}
