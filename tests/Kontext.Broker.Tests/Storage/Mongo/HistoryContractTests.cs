using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Storage.Mongo.Recording;
using Kontext.Ngsi.Storage;
using Kontext.Storage.Mongo;

namespace Kontext.Broker.Tests.Storage.Mongo;

/// <summary>
/// The history half of the storage contract (D4 and the Temporal API's writes): instances replaced and deleted in place,
/// purges, and a temporal create larger than one MongoDB transaction. Every store runs it: SQLite always, MongoDB when
/// KONTEXT_TEST_MONGO is set (with a budget of 50 documents per transaction, so the staged path runs on a real server).
/// </summary>
public abstract class HistoryContractTests : IAsyncLifetime
{
    private const string Temperature = "https://uri.etsi.org/ngsi-ld/default-context/temperature";
    protected IEntityStorage Storage { get; private set; } = null!;

    protected abstract Task<IEntityStorage> OpenAsync();
    protected abstract Task CleanUpAsync();

    public async Task InitializeAsync() => Storage = await OpenAsync();

    public async Task DisposeAsync()
    {
        await Storage.DisposeAsync();
        await CleanUpAsync();
    }

    private async Task<(ITenantStore Store, ITemporalStore Temporal)> TenantAsync()
    {
        var store = (await Storage.GetTenantAsync(null, true, default))!;
        return (store, (ITemporalStore)store);
    }

    [ContractFact]
    public async Task A_modified_instance_keeps_its_id_and_reads_back_with_the_new_value()
    {
        var (store, temporal) = await TenantAsync();
        await FakeTenant.TemporalCreateAsync(store, "urn:ngsi-ld:H:mod", 3);
        var before = await store.ReadHistoryAsync("urn:ngsi-ld:H:mod", Temperature, default);

        var replaced = await temporal.ReplaceInstanceAsync("urn:ngsi-ld:H:mod", Temperature, before[1].InstanceId,
            new JsonObject { ["type"] = "Property", ["value"] = 99, ["observedAt"] = "2024-01-01T00:01:00Z" }, DateTimeOffset.UtcNow, default);

        replaced.Should().BeTrue();
        var after = await store.ReadHistoryAsync("urn:ngsi-ld:H:mod", Temperature, default);
        after.Select(i => i.InstanceId).Should().Equal(before.Select(i => i.InstanceId));
        after[1].InstanceJson.Should().Contain("99");
        (await temporal.ReplaceInstanceAsync("urn:ngsi-ld:H:mod", Temperature, "urn:ngsi-ld:attribute:instance:none",
            new JsonObject { ["type"] = "Property", ["value"] = 1 }, DateTimeOffset.UtcNow, default)).Should().BeFalse();
    }

    [ContractFact]
    public async Task A_deleted_instance_leaves_the_history()
    {
        var (store, temporal) = await TenantAsync();
        await FakeTenant.TemporalCreateAsync(store, "urn:ngsi-ld:H:del", 3);
        var before = await store.ReadHistoryAsync("urn:ngsi-ld:H:del", Temperature, default);

        (await temporal.DeleteInstanceAsync("urn:ngsi-ld:H:del", Temperature, before[0].InstanceId, default)).Should().BeTrue();

        (await store.ReadHistoryAsync("urn:ngsi-ld:H:del", Temperature, default)).Select(i => i.InstanceId).Should().Equal(before.Skip(1).Select(i => i.InstanceId));
        (await temporal.DeleteInstanceAsync("urn:ngsi-ld:H:del", Temperature, before[0].InstanceId, default)).Should().BeFalse();
    }

    [ContractFact]
    public async Task Deleting_the_temporal_entity_removes_it_with_its_whole_history()
    {
        var (store, temporal) = await TenantAsync();
        await FakeTenant.TemporalCreateAsync(store, "urn:ngsi-ld:H:gone", 4);
        await FakeTenant.TemporalCreateAsync(store, "urn:ngsi-ld:H:kept", 2);

        var (existed, purged) = await temporal.WriteAndPurgeAsync("urn:ngsi-ld:H:gone",
            current => current is null ? EntityWrite<bool>.Nothing(false) : EntityWrite<bool>.Delete(true), HistoryPurge.WholeEntity, default);

        existed.Should().BeTrue();
        purged.Should().BeGreaterThanOrEqualTo(4);
        (await store.GetEntityAsync("urn:ngsi-ld:H:gone", default)).Should().BeNull();
        (await store.ReadHistoryAsync("urn:ngsi-ld:H:gone", null, default)).Should().BeEmpty();
        (await temporal.GetDeletedEntityAsync("urn:ngsi-ld:H:gone", default)).Should().BeNull();
        (await store.ReadHistoryAsync("urn:ngsi-ld:H:kept", null, default)).Should().HaveCount(2);
        var read = await temporal.ReadInstancesAsync(new TemporalReadRequest(["urn:ngsi-ld:H:gone", "urn:ngsi-ld:H:kept"], null, TemporalTimeProperty.ObservedAt,
            null, false, null, 100, Newest: false), default);
        read.Select(i => i.Record.EntityId).Should().OnlyContain(e => e == "urn:ngsi-ld:H:kept").And.HaveCount(2);
    }

    [ContractFact]
    public async Task History_written_after_a_purge_stays()
    {
        var (store, temporal) = await TenantAsync();
        await FakeTenant.TemporalCreateAsync(store, "urn:ngsi-ld:H:again", 3);
        await temporal.WriteAndPurgeAsync("urn:ngsi-ld:H:again", _ => EntityWrite<bool>.Nothing(false), new HistoryPurge(Temperature, AnyDataset: true), default);

        await FakeTenant.TemporalCreateAsync(store, "urn:ngsi-ld:H:again", 2);

        (await store.ReadHistoryAsync("urn:ngsi-ld:H:again", Temperature, default)).Should().HaveCount(2);
    }

    [ContractFact]
    public async Task A_temporal_create_larger_than_one_transaction_reads_back_whole_and_in_order()
    {
        var (store, temporal) = await TenantAsync();

        await FakeTenant.TemporalCreateAsync(store, "urn:ngsi-ld:H:big", 400);

        var history = await store.ReadHistoryAsync("urn:ngsi-ld:H:big", Temperature, default);
        history.Should().HaveCount(400);
        history.Select(i => i.InstanceId).Should().OnlyHaveUniqueItems();
        var window = await temporal.ReadInstancesAsync(new TemporalReadRequest(["urn:ngsi-ld:H:big"], null, TemporalTimeProperty.ObservedAt,
            null, false, null, 5, Newest: true), default);
        window.Select(i => i.Time.UtcDateTime).Should().Equal(Enumerable.Range(395, 5).Select(m => new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddMinutes(m)));
    }
}

public sealed class SqliteHistoryContractTests : HistoryContractTests
{
    private readonly SqliteTestDirectory _directory = new("history");

    protected override Task<IEntityStorage> OpenAsync() => Task.FromResult(_directory.Open());

    protected override Task CleanUpAsync() => _directory.DeleteAsync();
}

[RequiresEnvironment(MongoStorageContractTests.Variable, "KONTEXT_TEST_MONGO is not set: no MongoDB server on this machine")]
public sealed class MongoHistoryContractTests : HistoryContractTests
{
    private readonly MongoTestDatabase _database = new();

    protected override Task<IEntityStorage> OpenAsync() =>
        Task.FromResult<IEntityStorage>(new MongoStorage(_database.ConnectionString, new MongoStoreOptions { MaxTransactionDocuments = 50 }));

    protected override Task CleanUpAsync() => _database.DropAsync();
}
