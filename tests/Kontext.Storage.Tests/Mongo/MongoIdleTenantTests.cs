using Kontext.Ngsi.Storage;
using Kontext.Storage.Mongo;
using Kontext.Storage.Tests.Mongo.Recording;
using MongoDB.Bson;

namespace Kontext.Storage.Tests.Mongo;

/// <summary>
/// Idle tenants (issue 12): the MongoDB store writes a change-log entry only when it has a reader, by the SQLite store's
/// rule (a subscription exists, or the entity is transient before or after the write). Whether a subscription exists is the
/// <c>subscribed</c> flag of the change counter every entity write increments, set by each subscription creation and
/// deletion in its own transaction; the commands below are the ones the server receives.
/// </summary>
public sealed class MongoIdleTenantTests
{
    private const string Id = "urn:ngsi-ld:S:1";
    private static readonly BsonDocument ChangeCounter = new("_id", "changes");

    private static async Task<MongoTenantStore> OpenAsync(FakeMongoServer server) =>
        await FakeTenant.OpenAsync(server, new MongoStoreOptions { BackgroundMaintenance = false });

    private static Task CreateAsync(MongoTenantStore store, string attributes = "") =>
        FakeTenant.CreateAsync(store, $$"""{"id":"{{Id}}","type":"Sensor","a":{"type":"Property","value":1}{{attributes}}}""");

    private static Task SetAsync(MongoTenantStore store, int value) =>
        FakeTenant.UpdateAsync(store, $$$"""{"id":"{{{Id}}}","type":"Sensor","a":{"type":"Property","value":{{{value}}}}}""");

    private static IEnumerable<string> Logged(FakeMongoServer server) =>
        server.Existing("kontext", "changes")?.Stored.Select(d => d["op"].AsString) ?? [];

    private static BsonValue? Flag(FakeMongoServer server) =>
        server.Existing("kontext", "counters")!.Stored.Single(d => d["_id"] == "changes").GetValue(MongoTenantStore.SubscribedFlag, null);

    /// <summary>The flag update a subscription creation or deletion sends, in its transaction.</summary>
    private static ServerCall FlagUpdate(FakeMongoServer server) =>
        server.Calls.Single(c => c.Command == "update" && c.Collection == "counters" && c.Filter == ChangeCounter);

    [Fact]
    public async Task The_store_logs_what_the_storage_contract_asks_on_the_fake_as_on_SQLite() =>
        (await StorageContractTests.LoggedWritesAsync(await OpenAsync(new FakeMongoServer()))).Should().Equal(StorageContractTests.OnlyReadWritesLogged);

    [Fact]
    public async Task Opening_a_tenant_records_that_it_has_no_subscription_and_its_writes_log_nothing()
    {
        var server = new FakeMongoServer();
        var store = await OpenAsync(server);

        var init = FlagUpdate(server);
        init.Update.Should().Be(new BsonDocument("$set", new BsonDocument("subscribed", false)));
        (init.Upsert, init.Transaction is not null).Should().Be((true, true));
        server.Calls.Should().ContainSingle(c => c.Command == "find" && c.Collection == "subscriptions" && c.Transaction == init.Transaction && c.Limit == 1);
        server.ClearCalls();

        await CreateAsync(store);
        await SetAsync(store, 2);
        await store.WriteAsync(Id, _ => EntityWrite<bool>.Delete(true), default);

        Logged(server).Should().BeEmpty("nothing reads the log of a tenant without subscriptions and transient entities");
        server.Calls.Where(c => c.Command == "findAndModify" && c.Collection == "counters").Should().HaveCount(3)
            .And.OnlyContain(c => c.Filter == ChangeCounter && c.Update == new BsonDocument("$inc", new BsonDocument("seq", 1)) && c.Transaction != null,
                "the write still takes its sequence (its history rows carry it) and reads the flag from the counter it increments");
        server.Calls.Should().NotContain(c => c.Collection == "changes" || c.Collection == "subscriptions");
        (await store.ReadChangesAsync(0, 10, default)).Should().BeEmpty();
        FakeTenant.NoViolations(server);
    }

    [Fact]
    public async Task A_subscription_sets_the_flag_in_its_transaction_and_deleting_the_last_one_clears_it()
    {
        var server = new FakeMongoServer();
        var store = await OpenAsync(server);
        await CreateAsync(store);
        server.ClearCalls();

        await FakeTenant.SubscribeAsync(store);

        var created = FlagUpdate(server);
        created.Update.Should().Be(new BsonDocument("$set", new BsonDocument("subscribed", true)));
        created.Upsert.Should().BeTrue();
        server.Calls.Where(c => c.Transaction == created.Transaction).Select(c => (c.Command, c.Collection)).Should().Equal(
            ("insert", "subscriptions"), ("find", "subscriptions"), ("update", "counters"), ("commitTransaction", ""));
        await SetAsync(store, 2);
        Logged(server).Should().Equal("update");

        await FakeTenant.SubscribeAsync(store, "urn:ngsi-ld:Subscription:second");
        await FakeTenant.UnsubscribeAsync(store);
        Flag(server).Should().Be(BsonBoolean.True, "another subscription remains");
        server.ClearCalls();
        await FakeTenant.UnsubscribeAsync(store, "urn:ngsi-ld:Subscription:second");

        var deleted = FlagUpdate(server);
        deleted.Update.Should().Be(new BsonDocument("$set", new BsonDocument("subscribed", false)));
        server.Calls.Where(c => c.Transaction == deleted.Transaction).Select(c => (c.Command, c.Collection)).Should().Equal(
            ("delete", "subscriptions"), ("find", "subscriptions"), ("update", "counters"), ("commitTransaction", ""));
        server.Calls.Single(c => c.Command == "delete" && c.Collection == "outbox").Transaction.Should().BeNull("a queue may exceed one transaction");
        await SetAsync(store, 3);
        Logged(server).Should().Equal("update");
        FakeTenant.NoViolations(server);
    }

    [Fact]
    public async Task An_update_of_a_subscription_leaves_the_flag_alone()
    {
        var server = new FakeMongoServer();
        var store = await OpenAsync(server);
        await FakeTenant.SubscribeAsync(store);
        server.ClearCalls();

        await store.WriteSubscriptionAsync("urn:ngsi-ld:Subscription:follows", _ => new SubscriptionWrite<bool>(true, """{"changed":true}"""), default);

        server.Calls.Should().NotContain(c => c.Collection == "counters");
        server.Calls.Single(c => c.Command == "update" && c.Collection == "subscriptions").Transaction.Should().BeNull();
    }

    [Fact]
    public async Task Writes_of_a_transient_entity_are_logged_for_the_expiry_reaper_without_subscriptions()
    {
        var server = new FakeMongoServer();
        var store = await OpenAsync(server);

        await FakeTenant.CreateAsync(store, $$$"""{"id":"{{{Id}}}","type":"Sensor","expiresAt":"2099-01-01T00:00:00Z","a":{"type":"Property","value":1}}""");
        // durable again: the reaper must learn that too, from the entity before the write
        await store.WriteAsync(Id, current =>
        {
            current!.ExpiresAt = null;
            return EntityWrite<bool>.Upsert(current, [], true);
        }, default);
        await SetAsync(store, 2); // durable before and after: not logged
        await FakeTenant.UpdateAsync(store, $$$"""{"id":"{{{Id}}}","type":"Sensor","b":{"type":"Property","value":1,"expiresAt":"2099-01-01T00:00:00Z"}}""");
        await store.WriteAsync(Id, _ => EntityWrite<bool>.Delete(true), default);

        Logged(server).Should().Equal("create", "update", "update", "delete");
        var changes = await store.ReadChangesAsync(0, 10, default);
        changes[1].AfterJson.Should().NotContain("expiresAt");
        changes[2].AfterJson.Should().Contain("expiresAt", "an attribute instance that expires makes the entity transient");
    }

    [Fact]
    public async Task A_subscription_committed_while_a_write_runs_makes_the_write_run_again_and_log_its_change()
    {
        var server = new FakeMongoServer();
        var store = await OpenAsync(server);
        await CreateAsync(store);
        // MongoDB fails the later of two transactions that write one document with a WriteConflict (112): here the
        // subscription's transaction sets the flag on the counter after the write read its version, and commits first.
        var raced = false;
        server.FailWrite = (collection, doc) =>
        {
            if (collection != "counters" || doc["_id"] != "changes" || !doc.Contains("seq") || raced) return null;
            raced = true;
            FakeTenant.SubscribeAsync(store).GetAwaiter().GetResult();
            return 112;
        };
        server.ClearCalls();

        await SetAsync(store, 2);

        raced.Should().BeTrue();
        var commits = server.Calls.Where(c => c.Command is "commitTransaction" or "abortTransaction").Select(c => c.Command).ToList();
        commits.Should().Equal(["commitTransaction", "abortTransaction", "commitTransaction"], "the subscription commits, the write aborts and runs again");
        Logged(server).Should().Equal("update");
        server.Calls.Single(c => c.Command == "insert" && c.Collection == "changes").Transaction
            .Should().Be(server.Calls.Last(c => c.Command == "findAndModify" && c.Collection == "counters").Transaction);
    }

    [Fact]
    public async Task A_counter_of_an_earlier_version_counts_as_subscribed_until_a_process_opens_the_tenant()
    {
        var server = new FakeMongoServer();
        var counters = server.Collection("kontext", "counters");
        var earlier = new MongoTenantStore(null, server.Client, server.Client.GetDatabase("kontext"), new MongoStoreOptions { BackgroundMaintenance = false }, _ => { });
        await MongoSchema.CreateAsync(server.Client.GetDatabase("kontext"), default); // the collections, without opening the tenant
        await CreateAsync(earlier);
        counters.Stored.Single().Contains("subscribed").Should().BeFalse();
        Logged(server).Should().Equal(["create"], "a counter without the flag is read as subscribed");

        var store = await OpenAsync(server);
        Flag(server).Should().Be(BsonBoolean.False);
        await SetAsync(store, 2);
        Logged(server).Should().Equal("create");

        server.ClearCalls();
        await OpenAsync(server);
        server.Calls.Should().NotContain(c => c.Collection == "counters" && c.IsWrite, "the flag is set once");
    }
}
