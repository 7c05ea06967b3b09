using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Storage;
using MongoDB.Bson;
using MongoDB.Driver;

namespace Kontext.Storage.Mongo;

/// <summary>
/// The production store (D8): one MongoDB database per tenant (D6). The default tenant's database (the prefix,
/// "kontext") also holds the tenant registry and the cached @context documents. Several Kontext processes may share
/// the databases: every entity write is one multi-document transaction, the outbox is claimed with leases. A replica
/// set or sharded cluster of MongoDB 7.0+ is required and checked on construction (<see cref="MongoDeployment"/>).
/// </summary>
public sealed class MongoStorage : IEntityStorage
{
    private readonly IMongoClient _client;
    private readonly string _prefix;
    private readonly MongoStoreOptions _options;
    private readonly ConcurrentDictionary<string, Lazy<Task<MongoTenantStore>>> _tenants = new(StringComparer.Ordinal);
    private readonly IMongoCollection<BsonDocument> _registry;

    public MongoStorage(string connectionString, MongoStoreOptions? options = null) : this(MongoUrl.Create(connectionString), options)
    {
    }

    private MongoStorage(MongoUrl url, MongoStoreOptions? options) : this(new MongoClient(url), url.DatabaseName, options)
    {
    }

    /// <summary>Over any client (the tests' recording one too). Refuses a deployment the store cannot run on.</summary>
    internal MongoStorage(IMongoClient client, string? databaseName, MongoStoreOptions? options)
    {
        _client = client;
        _options = options ?? new MongoStoreOptions();
        _prefix = databaseName ?? "kontext";
        MongoDeployment.Require(client);
        var system = _client.GetDatabase(_prefix);
        _registry = system.GetCollection<BsonDocument>("tenants");
        Contexts = new MongoContextDocumentStore(system.GetCollection<BsonDocument>("contexts"));
    }

    public IContextDocumentStore Contexts { get; }

    /// <summary>Several Kontext processes share one MongoDB: another one's commits raise no event here.</summary>
    public bool SharedByProcesses => true;

    public event Action<string?>? Committed;

    public async ValueTask<ITenantStore?> GetTenantAsync(string? tenant, bool create, CancellationToken cancellationToken)
    {
        var key = tenant ?? "";
        if (!_tenants.ContainsKey(key) && tenant is not null)
        {
            var registered = await _registry.Find(new BsonDocument("_id", tenant)).AnyAsync(cancellationToken);
            if (!registered && !create) return null;
            if (!registered && _options.MaxTenants > 0
                && await _registry.CountDocumentsAsync(FilterDefinition<BsonDocument>.Empty, cancellationToken: cancellationToken) >= _options.MaxTenants)
                throw new NgsiException(NgsiError.LimitExceeded($"This broker holds its maximum of {_options.MaxTenants} tenants; '{tenant}' cannot be created"));
            if (!registered)
                await _registry.UpdateOneAsync(new BsonDocument("_id", tenant),
                    new BsonDocument("$setOnInsert", new BsonDocument("database", DatabaseName(_prefix, tenant))),
                    new UpdateOptions { IsUpsert = true }, cancellationToken);
        }
        var lazy = _tenants.GetOrAdd(key, _ => new Lazy<Task<MongoTenantStore>>(() => OpenAsync(tenant)));
        try { return await lazy.Value; }
        catch { _tenants.TryRemove(key, out _); throw; }
    }

    private async Task<MongoTenantStore> OpenAsync(string? tenant)
    {
        var database = _client.GetDatabase(tenant is null ? _prefix : DatabaseName(_prefix, tenant));
        var store = new MongoTenantStore(tenant, _client, database, _options, t => Committed?.Invoke(t));
        await store.InitializeAsync(CancellationToken.None);
        return store;
    }

    public async Task<IReadOnlyList<string?>> ListTenantsAsync(CancellationToken cancellationToken)
    {
        var names = await _registry.Find(FilterDefinition<BsonDocument>.Empty).Project(new BsonDocument("_id", 1)).ToListAsync(cancellationToken);
        return [null, .. names.Select(n => (string?)n["_id"].AsString)];
    }

    /// <summary>
    /// A valid database name: lower-case letters, digits and '-' kept, anything else as _xx hex bytes (MongoDB database
    /// names are case-insensitive and forbid /\. "$ and spaces); names longer than MongoDB's 63 bytes become a hash.
    /// The registry maps names back, so the encoding never needs reversing.
    /// </summary>
    public static string DatabaseName(string prefix, string tenant)
    {
        var name = new StringBuilder(prefix).Append("-t-");
        foreach (var b in Encoding.UTF8.GetBytes(tenant))
        {
            var c = (char)b;
            if (char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-') name.Append(c);
            else name.Append('_').Append(b.ToString("x2"));
        }
        if (name.Length <= 63) return name.ToString();
        return prefix + "-h-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(tenant)))[..32];
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var tenant in _tenants.Values.Where(t => t.IsValueCreated && t.Value.IsCompletedSuccessfully))
            await tenant.Value.Result.DisposeAsync();
        _client.Dispose();
    }
}

/// <summary>Tuning of the Mongo store; defaults suit a replica set of a few Kontext processes.</summary>
public sealed record MongoStoreOptions
{
    /// <summary>Most tenants (databases) the store creates; one more is 403 LimitExceeded (0: no cap). Two processes creating at once may pass it by one.</summary>
    public int MaxTenants { get; init; } = 1000;

    /// <summary>How long a claimed outbox message stays with its dispatcher before another process may take it over.</summary>
    public TimeSpan OutboxLease { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Most bytes of documents one transaction may write (an entity write with its history and change, or one batch of
    /// notifications). MongoDB aborts a transaction whose uncommitted data exceeds 5% of the WiredTiger cache
    /// (12.8 MB on the smallest, 256 MB, cache), and index entries come on top of the documents; docs/mongodb.md has
    /// the figures. A single entity write above it is refused with 413; notifications are split into several transactions.
    /// </summary>
    public int MaxTransactionBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>
    /// Most documents one transaction may write: "no more than 1,000 documents should be modified within a transaction"
    /// (MongoDB, Performance Best Practices: Transactions). A history with more rows is staged (MongoHistoryMarkers), and
    /// notifications beyond it go in several transactions.
    /// </summary>
    public int MaxTransactionDocuments { get; init; } = 1000;

    /// <summary>
    /// How long a consumed change-log entry stays at least, beyond the 10,000 kept behind the lowest cursor: the expiry reaper
    /// of every process follows the log from a position it keeps in memory, so an entry goes only when no reader that is less
    /// than this far behind can still need it (<see cref="MongoChangeLogPrune"/>).
    /// </summary>
    public TimeSpan ChangeLogRetention { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Whether the history maintenance and the change-log prune run in the background when asked (tests that run their passes themselves turn it off).</summary>
    internal bool BackgroundMaintenance { get; init; } = true;

    /// <summary>Names this process in outbox leases.</summary>
    public string InstanceId { get; init; } = Environment.MachineName + "-" + Guid.NewGuid().ToString("N")[..8];
}

internal sealed class MongoContextDocumentStore(IMongoCollection<BsonDocument> collection) : IContextDocumentStore
{
    public async Task<string?> GetAsync(string url, CancellationToken cancellationToken)
    {
        var doc = await collection.Find(new BsonDocument("_id", url)).FirstOrDefaultAsync(cancellationToken);
        return doc?["document"].AsString;
    }

    public async Task<IReadOnlyList<StoredContextDocument>> ListAsync(CancellationToken cancellationToken)
    {
        // The size is computed by the server: listing does not move the documents themselves.
        var pipeline = new[]
        {
            new BsonDocument("$sort", new BsonDocument("storedAt", 1)),
            new BsonDocument("$project", new BsonDocument { { "storedAt", 1 }, { "bytes", new BsonDocument("$strLenBytes", "$document") } }),
        };
        var docs = await collection.Aggregate<BsonDocument>(pipeline, cancellationToken: cancellationToken).ToListAsync(cancellationToken);
        return docs.Select(d => new StoredContextDocument(d["_id"].AsString, new DateTimeOffset(d["storedAt"].ToUniversalTime(), TimeSpan.Zero), d["bytes"].ToInt64())).ToList();
    }

    public async Task<bool> DeleteAsync(string url, CancellationToken cancellationToken) =>
        (await collection.DeleteOneAsync(new BsonDocument("_id", url), cancellationToken)).DeletedCount > 0;

    public Task PutAsync(string url, string document, CancellationToken cancellationToken) =>
        collection.ReplaceOneAsync(new BsonDocument("_id", url),
            new BsonDocument { { "_id", url }, { "document", document }, { "storedAt", DateTime.UtcNow } },
            new ReplaceOptions { IsUpsert = true }, cancellationToken);
}
