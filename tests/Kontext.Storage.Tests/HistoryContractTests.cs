using System.Text.Json.Nodes;
using Kontext.Storage.Tests.Mongo.Recording;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using Kontext.Storage.Mongo;
using Kontext.Storage.Tests.Mongo;

namespace Kontext.Storage.Tests;

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
        return (store, store.History!);
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
    public async Task A_window_read_keeps_the_datasetIds_asked_for_and_null_names_the_default_instance()
    {
        var (store, temporal) = await TenantAsync();
        var body = new JsonObject
        {
            ["id"] = "urn:ngsi-ld:H:ds", ["type"] = "T",
            ["temperature"] = new JsonArray(
                new JsonObject { ["type"] = "Property", ["value"] = 1, ["observedAt"] = "2024-01-01T00:00:00Z" },
                new JsonObject { ["type"] = "Property", ["value"] = 2, ["observedAt"] = "2024-01-01T00:01:00Z", ["datasetId"] = "urn:ngsi-ld:Dataset:a" },
                new JsonObject { ["type"] = "Property", ["value"] = 3, ["observedAt"] = "2024-01-01T00:02:00Z", ["datasetId"] = "urn:ngsi-ld:Dataset:b" }),
        };
        await FakeTenant.TemporalWriteAsync(store, body);

        async Task<List<string?>> DatasetsAsync(params string?[] datasets) =>
            (await temporal.ReadInstancesAsync(new TemporalReadRequest(["urn:ngsi-ld:H:ds"], null, TemporalTimeProperty.ObservedAt, null, true, null, 10, false,
                new HashSet<string?>(datasets)), default)).Select(i => i.Record.DatasetId).ToList();

        (await DatasetsAsync("urn:ngsi-ld:Dataset:a")).Should().Equal("urn:ngsi-ld:Dataset:a");
        (await DatasetsAsync(null, "urn:ngsi-ld:Dataset:b")).Should().Equal(null, "urn:ngsi-ld:Dataset:b");
        (await DatasetsAsync("urn:ngsi-ld:Dataset:none")).Should().BeEmpty();
    }

    [ContractFact]
    public async Task A_deletion_with_an_observedAt_is_in_observedAt_windows_and_a_Core_API_deletion_only_in_deletedAt_ones()
    {
        var (store, temporal) = await TenantAsync();
        await FakeTenant.TemporalCreateAsync(store, "urn:ngsi-ld:H:null", 1);
        await FakeTenant.TemporalWriteAsync(store, new JsonObject
        {
            ["id"] = "urn:ngsi-ld:H:null", ["type"] = "T",
            ["temperature"] = new JsonObject { ["type"] = "Property", ["value"] = "urn:ngsi-ld:null", ["observedAt"] = "2024-01-02T00:00:00Z" },
        });
        async Task<List<AttributeChangeKind>> KindsAsync(TemporalTimeProperty time) =>
            (await temporal.ReadInstancesAsync(new TemporalReadRequest(["urn:ngsi-ld:H:null"], null, time, null, true, null, 10, false), default))
                .Select(i => i.Record.Kind).ToList();

        (await KindsAsync(TemporalTimeProperty.ObservedAt)).Should().Equal(AttributeChangeKind.Created, AttributeChangeKind.Deleted);
        (await store.GetEntityAsync("urn:ngsi-ld:H:null", default))!.Attributes.Should().BeEmpty("the latest instance removed the attribute");

        await FakeTenant.TemporalCreateAsync(store, "urn:ngsi-ld:H:core", 1);
        await store.WriteAsync("urn:ngsi-ld:H:core", current =>
        {
            var operations = new EntityOperations(DateTimeOffset.UtcNow);
            operations.DeleteAttribute(current!, Temperature, null, deleteAll: false);
            return EntityWrite<bool>.Upsert(current!, operations.Changes, true);
        }, default);
        var deleted = await temporal.ReadInstancesAsync(new TemporalReadRequest(["urn:ngsi-ld:H:core"], null, TemporalTimeProperty.DeletedAt, null, true, null, 10, false), default);
        deleted.Should().ContainSingle().Which.Record.InstanceJson.Should().Contain("\"type\":\"Property\"", "a deletion keeps the attribute's type");
        (await KindsAsync(TemporalTimeProperty.ObservedAt)).Should().HaveCount(2);
    }

    [ContractFact]
    public async Task A_Core_API_scope_change_is_recorded_as_an_instance_of_the_scope()
    {
        var (store, temporal) = await TenantAsync();
        var id = "urn:ngsi-ld:H:scope";
        await store.WriteAsync(id, _ => EntityWrite<bool>.Upsert(new Entity(id) { Types = ["T"], Scopes = ["/A"], CreatedAt = DateTimeOffset.UtcNow, ModifiedAt = DateTimeOffset.UtcNow }, [], true), default);
        await store.WriteAsync(id, current =>
        {
            current!.Scopes = null;
            current.ModifiedAt = DateTimeOffset.UtcNow;
            return EntityWrite<bool>.Upsert(current, [], true);
        }, default);

        var scope = await store.ReadHistoryAsync(id, Kontext.Ngsi.Temporal.ScopeHistory.Attribute, default);
        scope.Select(i => i.Kind).Should().Equal(AttributeChangeKind.Created, AttributeChangeKind.Deleted);
        scope[0].InstanceJson.Should().Contain("/A");
        scope.Should().OnlyContain(i => i.ObservedAt != null, "a Core API change of the Scope gets observedAt = modifiedAt");
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
