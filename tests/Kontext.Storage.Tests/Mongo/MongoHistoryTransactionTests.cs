using Kontext.Storage.Tests.Mongo.Recording;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Storage;
using Kontext.Storage.Mongo;
using MongoDB.Bson;

namespace Kontext.Storage.Tests.Mongo;

/// <summary>
/// History with the write (D4) within MongoDB's transaction limits, on the store's real code over the recording fake: a
/// history that fits the budget commits in the entity's transaction; a larger one is staged before it and revealed by the
/// marker it commits; purges commit a marker and the rows go afterwards; nothing is lost or shown twice on the way.
/// </summary>
public sealed class MongoHistoryTransactionTests
{
    private const string Temperature = "https://uri.etsi.org/ngsi-ld/default-context/temperature";
    private static readonly MongoStoreOptions SmallBudget = new() { MaxTransactionBytes = 64 * 1024 };

    private static IEnumerable<ServerCall> HistoryWrites(FakeMongoServer server) =>
        server.Calls.Where(c => c.Collection == MongoSchema.Instances && c.IsWrite);

    private static IReadOnlyList<BsonDocument> Rows(FakeMongoServer server) => server.Existing("kontext", MongoSchema.Instances)!.Stored;

    [Fact]
    public async Task A_history_within_the_budget_commits_in_the_entity_transaction()
    {
        var server = new FakeMongoServer();
        var store = await FakeTenant.OpenAsync(server);

        await FakeTenant.TemporalCreateAsync(store, "urn:ngsi-ld:T:small", 10);

        var transaction = server.Calls.Single(c => c.Collection == "entities" && c.Command == "insert").Transaction;
        HistoryWrites(server).Should().ContainSingle().Which.Transaction.Should().Be(transaction);
        Rows(server).Should().HaveCount(10).And.OnlyContain(r => !r.Contains("w"));
        FakeTenant.NoViolations(server);
    }

    [Fact]
    public async Task A_temporal_create_of_thousands_of_instances_keeps_every_transaction_within_the_budget()
    {
        var server = new FakeMongoServer();
        var store = await FakeTenant.OpenAsync(server, SmallBudget);

        await FakeTenant.TemporalCreateAsync(store, "urn:ngsi-ld:T:big", 3000);

        foreach (var transaction in server.Calls.Where(c => c.Transaction is not null && c.IsWrite).GroupBy(c => c.Transaction))
        {
            var bytes = transaction.Sum(c => (c.Documents ?? []).Sum(d => d.ToBson().Length) + (c.Update as BsonDocument)?.ToBson().Length ?? 0);
            bytes.Should().BeLessThan(SmallBudget.MaxTransactionBytes, "transaction {0} stays within the budget", transaction.Key);
        }
        HistoryWrites(server).Should().OnlyContain(c => c.Transaction == null, "the rows were staged before the transaction");
        HistoryWrites(server).Count().Should().BeGreaterThan(5);
        server.Calls.Should().ContainSingle(c => c.Collection == MongoSchema.Markers && c.Command == "insert" && c.Transaction != null);
        (await store.ReadHistoryAsync("urn:ngsi-ld:T:big", Temperature, default)).Should().HaveCount(3000, "the committed marker shows the staged rows");
        FakeTenant.NoViolations(server);
    }

    [Fact]
    public async Task After_the_commit_the_staged_rows_become_plain_rows_and_the_marker_goes()
    {
        var server = new FakeMongoServer();
        var store = await FakeTenant.OpenAsync(server, SmallBudget);
        await FakeTenant.TemporalCreateAsync(store, "urn:ngsi-ld:T:big", 3000);

        await store.Maintenance.PassAsync(DateTime.UtcNow, default);

        Rows(server).Should().HaveCount(3000).And.OnlyContain(r => !r.Contains("w"));
        server.Existing("kontext", MongoSchema.Markers)!.Stored.Should().BeEmpty();
        (await store.ReadHistoryAsync("urn:ngsi-ld:T:big", Temperature, default)).Select(r => r.InstanceId).Should().OnlyHaveUniqueItems().And.HaveCount(3000);
    }

    [Fact]
    public async Task Staged_rows_of_a_write_that_did_not_commit_are_never_read_and_are_removed_once_abandoned()
    {
        var server = new FakeMongoServer { FailWrite = (collection, _) => collection == "historyMarkers" ? 2 : null }; // the write marker, in the transaction
        var store = await FakeTenant.OpenAsync(server, SmallBudget);

        var write = () => FakeTenant.TemporalCreateAsync(store, "urn:ngsi-ld:T:lost", 3000);

        await write.Should().ThrowAsync<MongoDB.Driver.MongoWriteException>();
        (await store.GetEntityAsync("urn:ngsi-ld:T:lost", default)).Should().BeNull();
        Rows(server).Should().HaveCount(3000, "the staged rows are still there").And.OnlyContain(r => r.Contains("w"));
        (await store.ReadHistoryAsync("urn:ngsi-ld:T:lost", null, default)).Should().BeEmpty("no marker committed them");
        await store.Maintenance.PassAsync(DateTime.UtcNow, default);
        Rows(server).Should().HaveCount(3000, "a write may still be committing");
        await store.Maintenance.PassAsync(DateTime.UtcNow + MongoHistoryMaintenance.AbandonedAfter + TimeSpan.FromMinutes(1), default);
        Rows(server).Should().BeEmpty();
    }

    [Fact]
    public async Task Deleting_a_temporal_entity_commits_a_purge_marker_and_the_rows_go_after_the_commit()
    {
        var server = new FakeMongoServer();
        var store = await FakeTenant.OpenAsync(server);
        await FakeTenant.TemporalCreateAsync(store, "urn:ngsi-ld:T:gone", 50);
        await FakeTenant.TemporalCreateAsync(store, "urn:ngsi-ld:T:kept", 5);
        server.ClearCalls();

        var (existed, purged) = await store.WriteAndPurgeAsync("urn:ngsi-ld:T:gone",
            current => current is null ? EntityWrite<bool>.Nothing(false) : EntityWrite<bool>.Delete(true), HistoryPurge.WholeEntity, default);

        (existed, purged).Should().Be((true, 52L), "50 instances, the deletion marker the delete wrote and the deleted-entity record");
        server.Calls.Where(c => c.Transaction != null && c.Command == "delete" && c.Collection == MongoSchema.Instances).Should().BeEmpty();
        (await store.ReadHistoryAsync("urn:ngsi-ld:T:gone", null, default)).Should().BeEmpty("the marker hides the rows from the commit on");
        (await store.GetDeletedEntityAsync("urn:ngsi-ld:T:gone", default)).Should().BeNull();

        await store.Maintenance.PassAsync(DateTime.UtcNow, default);

        Rows(server).Select(r => r["e"].AsString).Should().OnlyContain(e => e == "urn:ngsi-ld:T:kept").And.HaveCount(5);
        server.Existing("kontext", MongoSchema.Markers)!.Stored.Should().BeEmpty();
        FakeTenant.NoViolations(server);
    }

    [Fact]
    public async Task History_written_after_a_purge_is_not_covered_by_it()
    {
        var server = new FakeMongoServer();
        var store = await FakeTenant.OpenAsync(server);
        await FakeTenant.TemporalCreateAsync(store, "urn:ngsi-ld:T:again", 3);
        await store.WriteAndPurgeAsync("urn:ngsi-ld:T:again", current => EntityWrite<bool>.Delete(true), HistoryPurge.WholeEntity, default);

        await FakeTenant.TemporalCreateAsync(store, "urn:ngsi-ld:T:again", 2);

        (await store.ReadHistoryAsync("urn:ngsi-ld:T:again", Temperature, default)).Should().HaveCount(2, "the marker covers only what was committed before it");
        await store.Maintenance.PassAsync(DateTime.UtcNow, default);
        (await store.ReadHistoryAsync("urn:ngsi-ld:T:again", Temperature, default)).Should().HaveCount(2);
    }

    [Fact]
    public async Task Purging_one_dataset_of_an_attribute_leaves_the_other_instances()
    {
        var server = new FakeMongoServer();
        var store = await FakeTenant.OpenAsync(server);
        await FakeTenant.CreateAsync(store, """{"id":"urn:ngsi-ld:T:ds","type":"T","temperature":[{"type":"Property","value":1},{"type":"Property","value":2,"datasetId":"urn:ngsi-ld:Dataset:b"}]}""");

        var (_, purged) = await store.WriteAndPurgeAsync("urn:ngsi-ld:T:ds", _ => EntityWrite<bool>.Nothing(false),
            new HistoryPurge(Temperature, "urn:ngsi-ld:Dataset:b"), default);

        purged.Should().Be(1);
        (await store.ReadHistoryAsync("urn:ngsi-ld:T:ds", Temperature, default)).Should().ContainSingle().Which.DatasetId.Should().BeNull();
    }

    [Fact]
    public async Task Modifying_a_purged_instance_finds_nothing()
    {
        var server = new FakeMongoServer();
        var store = await FakeTenant.OpenAsync(server);
        await FakeTenant.CreateAsync(store, """{"id":"urn:ngsi-ld:T:m","type":"T","temperature":{"type":"Property","value":1}}""");
        var instance = (await store.ReadHistoryAsync("urn:ngsi-ld:T:m", Temperature, default)).Single().InstanceId;
        await store.WriteAndPurgeAsync("urn:ngsi-ld:T:m", _ => EntityWrite<bool>.Nothing(false), new HistoryPurge(Temperature, AnyDataset: true), default);

        (await store.ReplaceInstanceAsync("urn:ngsi-ld:T:m", Temperature, instance, new System.Text.Json.Nodes.JsonObject { ["type"] = "Property", ["value"] = 2 }, DateTimeOffset.UtcNow, default))
            .Should().BeFalse();
        (await store.DeleteInstanceAsync("urn:ngsi-ld:T:m", Temperature, instance, default)).Should().BeFalse();
    }

    [Fact]
    public async Task An_entity_larger_than_a_MongoDB_document_is_refused_with_413_before_anything_is_written()
    {
        var server = new FakeMongoServer();
        var store = await FakeTenant.OpenAsync(server);
        var entity = new Kontext.Ngsi.Model.Entity("urn:ngsi-ld:T:huge") { Types = ["https://uri.etsi.org/ngsi-ld/default-context/T"] };
        // Stored twice, as the attribute and among the q values: just over 16 MiB in all.
        entity.Attributes["https://uri.etsi.org/ngsi-ld/default-context/blob"] =
            [new System.Text.Json.Nodes.JsonObject { ["type"] = "Property", ["value"] = new string('x', MongoWriteLimits.MaxDocumentBytes / 2 + 1024) }];

        var write = () => store.WriteAsync(entity.Id, _ => EntityWrite<bool>.Upsert(entity, [], true), default);

        (await write.Should().ThrowAsync<NgsiException>()).Which.Error.Status.Should().Be(413);
        server.Calls.Should().NotContain(c => c.Collection == "entities" && c.Command == "insert");
    }

    [Fact]
    public async Task A_geometry_the_2dsphere_index_rejects_is_written_unindexed_and_left_to_the_evaluator()
    {
        var server = new FakeMongoServer { FailWrite = (collection, doc) => collection == "entities" && doc["geo"].AsBsonDocument.ElementCount > 0 ? 16755 : null };
        var store = await FakeTenant.OpenAsync(server);

        await FakeTenant.CreateAsync(store, """{"id":"urn:ngsi-ld:T:geo","type":"T","location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[4.9,52.3]}}}""");

        var stored = server.Existing("kontext", "entities")!.Stored.Single();
        stored["geo"].AsBsonDocument.ElementCount.Should().Be(0);
        stored["geoUnindexed"].AsBsonArray.Should().ContainSingle().Which.AsString.Should().Be("https://uri%2Eetsi%2Eorg/ngsi-ld/location");
    }
}
