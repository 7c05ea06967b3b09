using System.Net;
using MongoDB.Bson;
using MongoDB.Driver;
using MongoDB.Driver.Core.Clusters;
using MongoDB.Driver.Core.Connections;
using MongoDB.Driver.Core.Servers;

namespace Kontext.Storage.Tests.Mongo.Recording;

/// <summary>
/// A stand-in for a MongoDB deployment behind the driver's own interfaces (<see cref="IMongoClient"/>, <see cref="IMongoDatabase"/>,
/// <see cref="IMongoCollection{T}"/>, <see cref="IClientSessionHandle"/>), so the store's real code runs and every command it sends
/// is recorded as the server would receive it (collection, session, transaction, filter, update, pipeline). It keeps just enough
/// state to answer the store's own reads: documents matched by equality and simple comparisons (<see cref="BsonMatch"/>),
/// updates with $set/$unset/$inc/$max/$setOnInsert, collections with their creation options and indexes. It never evaluates an
/// aggregation pipeline (those return nothing): pipelines are checked as text by <see cref="DocumentedLimits"/>, not run.
/// </summary>
public sealed class FakeMongoServer
{
    private readonly Dictionary<(string Database, string Collection), FakeCollection> _collections = [];
    private readonly List<ServerCall> _calls = [];
    private long _transactions;

    /// <summary>The reply to hello: a replica-set primary unless a test says otherwise.</summary>
    public BsonDocument Hello { get; set; } = new() { { "isWritablePrimary", true }, { "setName", "rs0" }, { "maxWireVersion", 25 }, { "ok", 1 } };

    /// <summary>The version buildInfo reports.</summary>
    public string Version { get; set; } = "8.0.4";

    /// <summary>When set, a write that would store this document fails with the server error it returns (null: no error).</summary>
    public Func<string, BsonDocument, int?>? FailWrite { get; set; }

    public IMongoClient Client => RecordingClient.Create(this);

    public IReadOnlyList<ServerCall> Calls { get { lock (_calls) return [.. _calls]; } }

    public void ClearCalls() { lock (_calls) _calls.Clear(); }

    internal static readonly ConnectionId Connection = new(new ServerId(new ClusterId(), new DnsEndPoint("fake-mongo", 27017)));

    internal FakeCollection Collection(string database, string name)
    {
        lock (_collections)
        {
            if (!_collections.TryGetValue((database, name), out var collection))
                _collections[(database, name)] = collection = new FakeCollection(database, name);
            return collection;
        }
    }

    public FakeCollection? Existing(string database, string name)
    {
        lock (_collections) return _collections.TryGetValue((database, name), out var c) && c.Exists ? c : null;
    }

    public IReadOnlyList<FakeCollection> Collections(string database)
    {
        lock (_collections) return _collections.Values.Where(c => c.Database == database && c.Exists).ToList();
    }

    internal long NextTransaction() => Interlocked.Increment(ref _transactions);

    internal void Record(ServerCall call) { lock (_calls) _calls.Add(call); }

    internal static MongoCommandException CommandError(int code, string name, string message) =>
        new(Connection, message, new BsonDocument("fake", 1), new BsonDocument { { "ok", 0 }, { "code", code }, { "codeName", name }, { "errmsg", message } });

    /// <summary>A write error as the driver reports it (WriteError has no public constructor).</summary>
    internal static MongoWriteException WriteError(int code, string message)
    {
        var category = code == 11000 ? ServerErrorCategory.DuplicateKey : ServerErrorCategory.Uncategorized;
        var error = (WriteError)Activator.CreateInstance(typeof(WriteError), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance,
            null, [category, code, message, new BsonDocument()], null)!;
        return new MongoWriteException(Connection, error, null, null);
    }
}

/// <summary>One collection of the fake: whether it exists, how it was created, its indexes and documents.</summary>
public sealed class FakeCollection(string database, string name)
{
    public string Database { get; } = database;
    public string Name { get; } = name;
    public bool Exists { get; internal set; }

    /// <summary>The create command's options (timeseries, clusteredIndex, ...); empty when created implicitly.</summary>
    public BsonDocument Options { get; internal set; } = [];

    public bool IsTimeSeries => Options.Contains("timeseries");
    public string? MetaField => IsTimeSeries && Options["timeseries"].AsBsonDocument.TryGetValue("metaField", out var m) ? m.AsString : null;

    internal List<BsonDocument> Indexes { get; } = [];
    internal List<BsonDocument> Documents { get; } = [];
    internal HashSet<BsonValue> Ids { get; } = [];

    public IReadOnlyList<BsonDocument> IndexSpecs { get { lock (this) return [.. Indexes]; } }
    public IReadOnlyList<BsonDocument> Stored { get { lock (this) return [.. Documents]; } }

    public bool HasGeoIndexOn(string field)
    {
        lock (this) return Indexes.Any(i => i["key"].AsBsonDocument.Any(k => k.Name == field && k.Value == "2dsphere"));
    }
}

/// <summary>One command the store sent, as the server would see it.</summary>
/// <param name="Command">insert, update, delete, find, aggregate, findAndModify, create, createIndexes, listCollections, listIndexes, hello, buildInfo.</param>
/// <param name="Transaction">The transaction it was part of, null outside one.</param>
/// <param name="CollectionExisted">Whether the collection had been created before this command.</param>
public sealed record ServerCall(
    string Command, string Database, string Collection, long? Transaction, bool CollectionExisted,
    BsonDocument? Filter = null, BsonValue? Update = null, IReadOnlyList<BsonDocument>? Documents = null,
    IReadOnlyList<BsonDocument>? Pipeline = null, bool Multi = false, bool Upsert = false,
    BsonDocument? Sort = null, int? Limit = null, long Affected = 0, BsonDocument? Options = null)
{
    public bool IsWrite => Command is "insert" or "update" or "delete" or "findAndModify";
    public bool IsDdl => Command is "create" or "createIndexes" or "dropIndexes" or "drop";

    /// <summary>Every document the command carries (filter, update, inserted documents, pipeline stages, options).</summary>
    public IEnumerable<BsonValue> Parts()
    {
        if (Filter is not null) yield return Filter;
        if (Update is not null) yield return Update;
        if (Sort is not null) yield return Sort;
        if (Options is not null) yield return Options;
        foreach (var d in Documents ?? []) yield return d;
        foreach (var s in Pipeline ?? []) yield return s;
    }

    public override string ToString() =>
        $"{Command} {Database}.{Collection}{(Transaction is { } t ? $" [txn {t}]" : "")} {Filter?.ToJson()} {Update?.ToJson()} {(Pipeline is null ? "" : new BsonArray(Pipeline).ToJson())}";
}
