using Kontext.Ngsi.Storage;
using Kontext.Storage.Mongo;
using MongoDB.Driver;

namespace Kontext.Storage.Tests.Mongo;

/// <summary>
/// The storage contract against a real MongoDB (D8b): runs when KONTEXT_TEST_MONGO holds a mongodb:// URL (e.g. the
/// docker-compose replica set: mongodb://localhost:27017/?replicaSet=rs0), otherwise every test reports skipped with the reason.
/// Each test class instance gets its own database prefix and drops its databases afterwards.
/// </summary>
[RequiresEnvironment(Variable, "KONTEXT_TEST_MONGO is not set: no MongoDB server on this machine")]
public sealed class MongoStorageContractTests : StorageContractTests
{
    public const string Variable = "KONTEXT_TEST_MONGO";
    private readonly MongoTestDatabase _database = new();

    private string ConnectionString => _database.ConnectionString;

    protected override Task<IEntityStorage> OpenAsync() => Task.FromResult<IEntityStorage>(new MongoStorage(ConnectionString));

    /// <summary>
    /// D8 with several instances: two processes (two stores with their own instance ids over one database) race for
    /// the same outbox; each message goes to exactly one, and a message whose lease ran out moves to the other, after
    /// which its first owner may no longer deliver it.
    /// </summary>
    [ContractFact]
    public async Task Two_instances_claim_disjoint_messages_and_an_expired_lease_moves_to_the_other()
    {
        var lease = TimeSpan.FromSeconds(30);
        await using var a = new MongoStorage(ConnectionString, new MongoStoreOptions { InstanceId = "a", OutboxLease = lease });
        await using var b = new MongoStorage(ConnectionString, new MongoStoreOptions { InstanceId = "b", OutboxLease = lease });
        var storeA = (await a.GetTenantAsync("lease", true, default))!;
        var storeB = (await b.GetTenantAsync("lease", true, default))!;
        var now = DateTimeOffset.UtcNow;
        var messages = Enumerable.Range(0, 200).Select(i => new OutboxMessage(0, "urn:ngsi-ld:Subscription:s", $"http://127.0.0.1:9/{i % 7}", $"m{i}", 0, now)).ToList();
        await storeA.AppendNotificationsAsync(null, 0, messages, default);

        var claims = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => (i % 2 == 0 ? storeA : storeB).ReadDueNotificationsAsync(now.AddSeconds(1), 40, default)));
        var claimed = claims.SelectMany(c => c).Select(m => m.Request).ToList();
        claimed.Should().OnlyHaveUniqueItems("a message is claimed by one instance only");
        var rest = await storeB.ReadDueNotificationsAsync(now.AddSeconds(1), 1000, default);
        claimed.Concat(rest.Select(m => m.Request)).Should().BeEquivalentTo(messages.Select(m => m.Request));

        await storeA.AppendNotificationsAsync(null, 0, [new OutboxMessage(0, "urn:ngsi-ld:Subscription:s", "http://127.0.0.1:9/x", "extra", 0, now)], default);
        var heldByA = (await storeA.ReadDueNotificationsAsync(now.AddSeconds(1), 10, default)).Single();
        (await storeA.RenewLeaseAsync(heldByA.Sequence, now.AddSeconds(2), default)).Should().BeTrue();
        (await storeB.ReadDueNotificationsAsync(now.AddSeconds(10), 1000, default)).Should().BeEmpty("every lease is still held");
        var takenOver = await storeB.ReadDueNotificationsAsync(now + lease + lease, 1000, default);
        takenOver.Select(m => m.Sequence).Should().Contain(heldByA.Sequence, "A's lease ran out");
        (await storeA.RenewLeaseAsync(heldByA.Sequence, now + lease + lease, default)).Should().BeFalse("B owns it now");
        (await storeB.RenewLeaseAsync(heldByA.Sequence, now + lease + lease, default)).Should().BeTrue();
    }

    /// <summary>A prune pass, and one as if the retention had passed since: what is left is what the rule keeps.</summary>
    protected override async Task SettleChangeLogAsync(ITenantStore store)
    {
        var prune = ((MongoTenantStore)store).ChangeLogPrune;
        var now = TimeSpan.FromMilliseconds(Environment.TickCount64); // the clock of the store's own background passes
        await prune.PassAsync(now + TimeSpan.FromDays(1), default);
        await prune.PassAsync(now + TimeSpan.FromDays(2), default);
    }

    protected override Task CleanUpAsync() => _database.DropAsync();
}

/// <summary>The query differential (D3) against a real MongoDB: Mongo filters plus residual evaluation equal the evaluator.</summary>
[RequiresEnvironment(MongoStorageContractTests.Variable, "KONTEXT_TEST_MONGO is not set: no MongoDB server on this machine")]
public sealed class MongoPushdownDifferentialTests : PushdownDifferentialTests
{
    private readonly MongoTestDatabase _database = new();

    protected override Task<IEntityStorage> OpenAsync() => Task.FromResult<IEntityStorage>(new MongoStorage(_database.ConnectionString));

    protected override Task CleanUpAsync() => _database.DropAsync();
}

/// <summary>Aggregation pushdown against a real MongoDB: the $group pipeline's figures equal the in-memory aggregation.</summary>
[RequiresEnvironment(MongoStorageContractTests.Variable, "KONTEXT_TEST_MONGO is not set: no MongoDB server on this machine")]
public sealed class MongoAggregationDifferentialTests : AggregationDifferentialTests
{
    private readonly MongoTestDatabase _database = new();

    protected override Task<IEntityStorage> OpenAsync() => Task.FromResult<IEntityStorage>(new MongoStorage(_database.ConnectionString));

    protected override Task CleanUpAsync() => _database.DropAsync();
}

/// <summary>
/// The pre-aggregated buckets against a real MongoDB: composed from buckets equals the in-memory aggregation of the instances,
/// after modifications, deletions and a purge (the purge's buckets follow in the history maintenance, run here once).
/// </summary>
[RequiresEnvironment(MongoStorageContractTests.Variable, "KONTEXT_TEST_MONGO is not set: no MongoDB server on this machine")]
public sealed class MongoBucketDifferentialTests : BucketDifferentialTests
{
    private readonly MongoTestDatabase _database = new();

    protected override Task<IEntityStorage> OpenAsync() => Task.FromResult<IEntityStorage>(new MongoStorage(_database.ConnectionString));

    protected override Task SettleAsync(ITenantStore store) => ((MongoTenantStore)store).Maintenance.PassAsync(DateTime.UtcNow, default);

    protected override Task CleanUpAsync() => _database.DropAsync();
}

/// <summary>A database prefix of its own for one test class instance, dropped afterwards.</summary>
public sealed class MongoTestDatabase
{
    private readonly string _prefix = "kontext-test-" + Guid.NewGuid().ToString("N")[..12];

    public string ConnectionString => new MongoUrlBuilder(Environment.GetEnvironmentVariable(MongoStorageContractTests.Variable)) { DatabaseName = _prefix }.ToString();

    public async Task DropAsync()
    {
        using var client = new MongoClient(ConnectionString);
        foreach (var name in await (await client.ListDatabaseNamesAsync()).ToListAsync())
            if (name.StartsWith(_prefix, StringComparison.Ordinal)) await client.DropDatabaseAsync(name);
    }
}
