using Kontext.Ngsi.Storage;
using Kontext.Storage.Mongo;
using MongoDB.Driver;

namespace Kontext.Broker.Tests.Storage.Mongo;

/// <summary>
/// The storage contract against a real MongoDB (D8b): runs when KONTEXT_TEST_MONGO holds a mongodb:// URL (e.g. the
/// docker-compose replica set: mongodb://localhost:27017/?replicaSet=rs0), otherwise every test reports skipped with the reason.
/// Each test class instance gets its own database prefix and drops its databases afterwards.
/// </summary>
[RequiresEnvironment(Variable, "KONTEXT_TEST_MONGO is not set: no MongoDB server on this machine")]
public sealed class MongoStorageContractTests : StorageContractTests
{
    public const string Variable = "KONTEXT_TEST_MONGO";
    private readonly string _prefix = "kontext-test-" + Guid.NewGuid().ToString("N")[..12];

    private string ConnectionString => new MongoUrlBuilder(Environment.GetEnvironmentVariable(Variable)) { DatabaseName = _prefix }.ToString();

    protected override Task<IEntityStorage> OpenAsync() => Task.FromResult<IEntityStorage>(new MongoStorage(ConnectionString));

    protected override async Task CleanUpAsync()
    {
        using var client = new MongoClient(ConnectionString);
        foreach (var name in await (await client.ListDatabaseNamesAsync()).ToListAsync())
            if (name.StartsWith(_prefix, StringComparison.Ordinal)) await client.DropDatabaseAsync(name);
    }
}
