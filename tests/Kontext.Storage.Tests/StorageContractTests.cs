using System.Text.Json.Nodes;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;
using Kontext.Ngsi.Storage;
using Kontext.Storage.Sqlite;

namespace Kontext.Storage.Tests;

/// <summary>
/// The storage contract: what every implementation of the port must do (D8). Each store gets a subclass that
/// says how to open it; the SQLite one always runs, a MongoDB one runs when KONTEXT_TEST_MONGO is set.
/// </summary>
public abstract class StorageContractTests : IAsyncLifetime
{
    protected IEntityStorage Storage { get; private set; } = null!;

    protected abstract Task<IEntityStorage> OpenAsync();
    protected abstract Task CleanUpAsync();

    public async Task InitializeAsync() => Storage = await OpenAsync();

    public async Task DisposeAsync()
    {
        await Storage.DisposeAsync();
        await CleanUpAsync();
    }

    private static Entity Parse(string json) =>
        EntityParser.ParseEntity(JsonNode.Parse(json)!.AsObject(), ContextProcessor.Core, ParseMode.Full);

    private static async Task CreateAsync(ITenantStore store, Entity entity)
    {
        await store.WriteAsync(entity.Id, current =>
        {
            if (current is not null) throw new NgsiException(NgsiError.AlreadyExists(entity.Id));
            var operations = new EntityOperations(DateTimeOffset.UtcNow);
            return EntityWrite<bool>.Upsert(operations.Create(entity.Clone()), operations.Changes, true);
        }, default);
    }

    [ContractFact]
    public async Task Written_entity_reads_back_equal()
    {
        var store = (await Storage.GetTenantAsync(null, true, default))!;
        var entity = Parse("""{"id":"urn:ngsi-ld:T:1","type":["A","B"],"scope":"/x","p":{"type":"Property","value":{"deep":[1,2]},"observedAt":"2024-01-01T00:00:00Z"}}""");

        await CreateAsync(store, entity);
        var back = await store.GetEntityAsync("urn:ngsi-ld:T:1", default);

        back!.Types.Should().Equal(entity.Types);
        back.Scopes.Should().Equal("/x");
        JsonNode.DeepEquals(back.Attributes.Values.Single()[0]["value"], entity.Attributes.Values.Single()[0]["value"]).Should().BeTrue();
    }

    [ContractFact]
    public async Task A_tenant_store_exposes_every_facet_of_the_port()
    {
        var store = (await Storage.GetTenantAsync(null, true, default))!;

        store.History.Should().NotBeNull("a store keeps the temporal evolution of its entities");
        store.Registrations.Should().NotBeNull("a store keeps context source registrations");
        store.Adapters.Should().NotBeNull("a store keeps the adapters' state");
        Storage.Contexts.Should().NotBeNull("the storage keeps the @context documents it fetched");
    }

    [ContractFact]
    public async Task Unknown_named_tenant_is_absent_until_created_and_the_default_always_exists()
    {
        (await Storage.GetTenantAsync("nobody", false, default)).Should().BeNull();
        (await Storage.GetTenantAsync(null, false, default)).Should().NotBeNull();
        (await Storage.GetTenantAsync("nobody", true, default)).Should().NotBeNull();
    }

    [ContractFact]
    public async Task Tenants_are_isolated()
    {
        var a = (await Storage.GetTenantAsync("a", true, default))!;
        var b = (await Storage.GetTenantAsync("b", true, default))!;

        await CreateAsync(a, Parse("""{"id":"urn:ngsi-ld:T:1","type":"T"}"""));

        (await b.GetEntityAsync("urn:ngsi-ld:T:1", default)).Should().BeNull();
    }

    [ContractFact]
    public async Task A_throwing_decision_writes_nothing_and_others_in_the_same_group_commit()
    {
        var store = (await Storage.GetTenantAsync(null, true, default))!;
        var failing = store.WriteAsync<bool>("urn:ngsi-ld:T:bad", _ => throw NgsiException.BadRequestData("no"), default);
        var succeeding = Enumerable.Range(0, 20).Select(i => CreateAsync(store, Parse($$"""{"id":"urn:ngsi-ld:T:ok{{i}}","type":"T"}"""))).ToList();

        await FluentActions.Awaiting(() => failing).Should().ThrowAsync<NgsiException>();
        await Task.WhenAll(succeeding);

        (await store.GetEntityAsync("urn:ngsi-ld:T:bad", default)).Should().BeNull();
        for (var i = 0; i < 20; i++) (await store.GetEntityAsync($"urn:ngsi-ld:T:ok{i}", default)).Should().NotBeNull();
    }

    [ContractFact]
    public async Task Read_modify_write_is_serialized_per_entity()
    {
        var store = (await Storage.GetTenantAsync(null, true, default))!;
        await CreateAsync(store, Parse("""{"id":"urn:ngsi-ld:T:counter","type":"T","n":0}"""));

        await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => store.WriteAsync("urn:ngsi-ld:T:counter", current =>
        {
            var instance = current!.Attributes.Values.Single()[0];
            instance["value"] = instance["value"]!.GetValue<int>() + 1;
            return EntityWrite<bool>.Upsert(current, [], true);
        }, default)));

        var after = await store.GetEntityAsync("urn:ngsi-ld:T:counter", default);
        after!.Attributes.Values.Single()[0]["value"]!.GetValue<int>().Should().Be(50);
    }

    [ContractFact]
    public async Task Delete_removes_the_entity_and_logs_the_change()
    {
        var store = (await Storage.GetTenantAsync(null, true, default))!;
        await store.WriteSubscriptionAsync("urn:ngsi-ld:Subscription:follows", _ => new SubscriptionWrite<bool>(true, "{}"), default); // the log has a reader
        await CreateAsync(store, Parse("""{"id":"urn:ngsi-ld:T:gone","type":"T","a":1}"""));

        await store.WriteAsync("urn:ngsi-ld:T:gone", _ => EntityWrite<bool>.Delete(true), default);

        (await store.GetEntityAsync("urn:ngsi-ld:T:gone", default)).Should().BeNull();
        var changes = await store.ReadChangesAsync(0, 10, default);
        changes.Select(c => c.Operation).Should().Equal("create", "delete");
        (await store.ReadHistoryAsync("urn:ngsi-ld:T:gone", null, default)).Select(h => h.Kind)
            .Should().Equal(AttributeChangeKind.Created, AttributeChangeKind.Deleted);
    }

    /// <summary>Issue 12: a change-log entry is written only when it has a reader, the matcher or the expiry reaper (one rule for every store).</summary>
    [ContractFact]
    public async Task Only_the_writes_a_subscription_or_the_expiry_reaper_reads_are_logged() =>
        (await LoggedWritesAsync((await Storage.GetTenantAsync(null, true, default))!)).Should().Equal(OnlyReadWritesLogged);

    /// <summary>What <see cref="LoggedWritesAsync"/> leaves in the log: the transient entity's creation, the update made while subscribed.</summary>
    internal static readonly (string EntityId, string Operation)[] OnlyReadWritesLogged = [("urn:ngsi-ld:T:transient", "create"), ("urn:ngsi-ld:T:durable", "update")];

    /// <summary>Writes with and without a subscription, of a durable and a transient entity; returns the log (also run on the MongoDB fake).</summary>
    internal static async Task<IEnumerable<(string EntityId, string Operation)>> LoggedWritesAsync(ITenantStore store)
    {
        Task Put(string id, string extra = "") => store.WriteAsync(id, current =>
            EntityWrite<bool>.Upsert(Parse($$$"""{"id":"{{{id}}}","type":"T","p":{"type":"Property","value":{{{(current is null ? 1 : 2)}}}}{{{extra}}}}"""), [], true), default);
        Task Subscription(string? document) =>
            store.WriteSubscriptionAsync("urn:ngsi-ld:Subscription:reader", current => new SubscriptionWrite<bool>(true, document, document is not null || current is not null), default);

        await Put("urn:ngsi-ld:T:durable");                                                // no subscription, durable: not logged
        await Put("urn:ngsi-ld:T:transient", ""","expiresAt":"2100-01-01T00:00:00Z" """);  // the reaper reads it
        await Subscription("{}");
        await Put("urn:ngsi-ld:T:durable");                                                // the matcher reads it
        await Subscription(null);
        await Put("urn:ngsi-ld:T:durable", ""","other":{"type":"Property","value":0}""");
        return (await store.ReadChangesAsync(0, 10, default)).Select(c => (c.EntityId, c.Operation));
    }

    [ContractFact]
    public async Task The_last_change_sequence_is_that_of_the_newest_change_and_zero_before_any()
    {
        var store = (await Storage.GetTenantAsync(null, true, default))!;
        (await store.ReadLastChangeSequenceAsync(default)).Should().Be(0);
        // Transient entities: their writes are logged by every store, with or without subscriptions.
        for (var i = 1; i <= 3; i++)
            await CreateAsync(store, Parse($$"""{"id":"urn:ngsi-ld:T:{{i}}","type":"T","expiresAt":"2100-01-01T00:00:00Z","p":{{i}}}"""));

        var changes = await store.ReadChangesAsync(0, 10, default);
        changes.Should().HaveCount(3);
        (await store.ReadLastChangeSequenceAsync(default)).Should().Be(changes[^1].Sequence);
    }

    /// <summary>What a store does after a cursor moved to prune its log (SQLite in the move's transaction, MongoDB in a pass of its own).</summary>
    protected virtual Task SettleChangeLogAsync(ITenantStore store) => Task.CompletedTask;

    [ContractFact]
    public async Task Moving_the_cursor_keeps_every_change_it_has_not_passed_and_the_consumed_tail()
    {
        var store = (await Storage.GetTenantAsync(null, true, default))!;
        for (var i = 1; i <= 3; i++)
            await CreateAsync(store, Parse($$"""{"id":"urn:ngsi-ld:T:{{i}}","type":"T","expiresAt":"2100-01-01T00:00:00Z","p":{{i}}}"""));
        var changes = await store.ReadChangesAsync(0, 10, default);
        await store.ReadCursorAsync("notifications", default);

        await store.AppendNotificationsAsync("notifications", changes[1].Sequence, [], default);
        await SettleChangeLogAsync(store);

        (await store.ReadChangesAsync(changes[1].Sequence, 10, default)).Select(c => c.EntityId).Should().Equal("urn:ngsi-ld:T:3");
        (await store.ReadChangesAsync(0, 10, default)).Select(c => c.Sequence).Should().Equal(changes.Select(c => c.Sequence),
            "the 10,000 entries behind the cursor stay");
        (await store.ReadLastChangeSequenceAsync(default)).Should().Be(changes[^1].Sequence);
    }

    [ContractFact]
    public async Task The_transient_candidates_hold_every_entity_that_names_expiresAt()
    {
        var store = (await Storage.GetTenantAsync(null, true, default))!;
        await CreateAsync(store, Parse("""{"id":"urn:ngsi-ld:T:durable","type":"T","p":1}"""));
        await CreateAsync(store, Parse("""{"id":"urn:ngsi-ld:T:entity","type":"T","expiresAt":"2100-01-01T00:00:00Z","p":1}"""));
        await CreateAsync(store, Parse("""{"id":"urn:ngsi-ld:T:durable2","type":"T","p":{"type":"Property","value":1,"observedAt":"2024-01-01T00:00:00Z"}}"""));
        await CreateAsync(store, Parse("""{"id":"urn:ngsi-ld:T:instance","type":"T","p":{"type":"Property","value":1,"expiresAt":"2100-01-01T00:00:00Z"}}"""));

        var candidates = new List<Entity>();
        await foreach (var entity in store.ReadTransientCandidatesAsync(default)) candidates.Add(entity);

        candidates.Where(e => Transience.NextExpiry(e) is not null).Select(e => e.Id)
            .Should().BeEquivalentTo("urn:ngsi-ld:T:entity", "urn:ngsi-ld:T:instance");
    }

    [ContractFact]
    public async Task Context_documents_are_kept()
    {
        await Storage.Contexts.PutAsync("https://example.org/c.jsonld", """{"@context":{}}""", default);
        (await Storage.Contexts.GetAsync("https://example.org/c.jsonld", default)).Should().Be("""{"@context":{}}""");
        (await Storage.Contexts.GetAsync("https://example.org/other.jsonld", default)).Should().BeNull();
    }

    [ContractFact]
    public async Task Contexts_are_listed_and_deleted()
    {
        await Storage.Contexts.PutAsync("https://example.org/a.jsonld", """{"@context":{"a":"https://x/a"}}""", default);
        await Storage.Contexts.PutAsync("hosted:1", """{"@context":{}}""", default);

        (await Storage.Contexts.ListAsync(default)).Select(c => c.Key).Should().BeEquivalentTo("https://example.org/a.jsonld", "hosted:1");
        (await Storage.Contexts.DeleteAsync("hosted:1", default)).Should().BeTrue();
        (await Storage.Contexts.DeleteAsync("hosted:1", default)).Should().BeFalse();
        (await Storage.Contexts.ListAsync(default)).Select(c => c.Key).Should().Equal("https://example.org/a.jsonld");
    }

    [ContractFact]
    public async Task Queries_page_in_creation_order_and_count()
    {
        var store = (await Storage.GetTenantAsync(null, true, default))!;
        for (var i = 0; i < 12; i++)
            await CreateAsync(store, Parse($$$$"""{"id":"urn:ngsi-ld:Q:{{{{i:00}}}}","type":"{{{{(i % 3 == 0 ? "X" : "Y")}}}}","n":{{{{i}}}},"location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[{{{{i}}}},0]}}}"""));
        var query = EntityQuery.Parse(new EntityQueryParameters(Type: "Y", Q: "n>=2"), ContextProcessor.Core);

        var first = await store.QueryAsync(new EntityPageRequest(query, 0, 3, true), default);
        var second = await store.QueryAsync(new EntityPageRequest(query, 3, 10, false), default);

        first.TotalCount.Should().Be(7);
        first.Entities.Concat(second.Entities).Select(e => e.Id).Should().Equal("urn:ngsi-ld:Q:02", "urn:ngsi-ld:Q:04", "urn:ngsi-ld:Q:05", "urn:ngsi-ld:Q:07", "urn:ngsi-ld:Q:08", "urn:ngsi-ld:Q:10", "urn:ngsi-ld:Q:11");
        var near = EntityQuery.Parse(new EntityQueryParameters(GeoRel: "near;maxDistance==220000", Geometry: "Point", Coordinates: "[4.9,0]"), ContextProcessor.Core);
        (await store.QueryAsync(new EntityPageRequest(near, 0, 10, false), default)).Entities.Select(e => e.Id)
            .Should().BeEquivalentTo("urn:ngsi-ld:Q:03", "urn:ngsi-ld:Q:04", "urn:ngsi-ld:Q:05", "urn:ngsi-ld:Q:06");
        (await store.ListTypesAsync(default)).Select(t => (t.Type, t.EntityCount)).Should()
            .BeEquivalentTo([("https://uri.etsi.org/ngsi-ld/default-context/X", 4L), ("https://uri.etsi.org/ngsi-ld/default-context/Y", 8L)]);
    }

    [ContractFact]
    public async Task Temporal_reads_return_the_window_and_the_last_instances()
    {
        var store = (await Storage.GetTenantAsync(null, true, default))!;
        var temporal = store.History!;
        await CreateAsync(store, Parse("""{"id":"urn:ngsi-ld:H:1","type":"H","n":{"type":"Property","value":0,"observedAt":"2024-01-01T00:00:00Z"}}"""));
        for (var i = 1; i <= 4; i++)
        {
            var fragment = Parse($$$"""{"id":"urn:ngsi-ld:H:1","type":"H","n":{"type":"Property","value":{{{i}}},"observedAt":"2024-01-0{{{i + 1}}}T00:00:00Z"}}""");
            await store.WriteAsync("urn:ngsi-ld:H:1", current =>
            {
                var operations = new EntityOperations(DateTimeOffset.UtcNow);
                operations.Update(current!, fragment);
                return EntityWrite<bool>.Upsert(current!, operations.Changes, true);
            }, default);
        }
        var attribute = store.GetEntityAsync("urn:ngsi-ld:H:1", default).Result!.Attributes.Keys.Single();

        var lastTwo = await temporal.ReadInstancesAsync(new TemporalReadRequest(["urn:ngsi-ld:H:1"], null, TemporalTimeProperty.ObservedAt, null, true, null, 2, Newest: true), default);
        var window = await temporal.ReadInstancesAsync(new TemporalReadRequest(["urn:ngsi-ld:H:1"], new HashSet<string> { attribute }, TemporalTimeProperty.ObservedAt,
            DateTimeOffset.Parse("2024-01-02T00:00:00Z"), true, DateTimeOffset.Parse("2024-01-04T00:00:00Z"), 100, Newest: false), default);

        lastTwo.Select(i => i.Time.Day).Should().Equal(4, 5);
        window.Select(i => i.Time.Day).Should().Equal(2, 3);
        window.Should().OnlyContain(i => i.Record.Attribute == attribute && i.Record.EntityId == "urn:ngsi-ld:H:1");
    }

    [ContractFact]
    public async Task Outbox_messages_are_read_when_due_retried_in_order_and_removed_when_done()
    {
        var store = (await Storage.GetTenantAsync(null, true, default))!;
        const string subscription = "urn:ngsi-ld:Subscription:contract";
        await store.WriteSubscriptionAsync(subscription, _ => new SubscriptionWrite<bool>(true, """{"id":"urn:ngsi-ld:Subscription:contract"}"""), default);
        var now = DateTimeOffset.UtcNow;
        (await store.ReadCursorAsync("matcher", default)).Should().Be(0);

        await store.AppendNotificationsAsync("matcher", 5,
            [new OutboxMessage(0, subscription, "http://127.0.0.1:9/n", "first", 0, now), new OutboxMessage(0, subscription, "http://127.0.0.1:9/n", "second", 0, now)], default);

        (await store.ReadCursorAsync("matcher", default)).Should().Be(5);
        var due = await store.ReadDueNotificationsAsync(now.AddSeconds(1), 10, default);
        due.Select(m => m.Request).Should().Equal("first", "second");
        due[0].Sequence.Should().BeLessThan(due[1].Sequence);
        (await store.RenewLeaseAsync(due[0].Sequence, now, default)).Should().BeTrue();

        await store.RecordDeliveryAsync(due[0].Sequence, subscription, DeliveryOutcome.Retry, now, now.AddMinutes(5), default);
        await store.RecordDeliveryAsync(due[1].Sequence, subscription, DeliveryOutcome.Delivered, now, null, default);

        (await store.ReadDueNotificationsAsync(now.AddSeconds(2), 10, default)).Should().BeEmpty("the failed message waits for its retry time");
        (await store.RenewLeaseAsync(due[1].Sequence, now, default)).Should().BeFalse("a delivered message is gone");
        var retry = await store.ReadDueNotificationsAsync(now.AddMinutes(10), 10, default);
        retry.Select(m => (m.Request, m.Attempts)).Should().Equal(("first", 1));
        await store.RecordDeliveryAsync(retry[0].Sequence, subscription, DeliveryOutcome.GaveUp, now, null, default);
        (await store.ReadDueNotificationsAsync(now.AddMinutes(20), 10, default)).Should().BeEmpty();

        var status = (await store.GetSubscriptionAsync(subscription, default))!.Status;
        (status.TimesSent, status.TimesFailed).Should().Be((3L, 2L));
        status.LastSuccess.Should().NotBeNull();
    }

    [ContractFact]
    public async Task A_batch_of_delivery_records_counts_each_notification_once_and_reading_resumes_after_a_sequence()
    {
        var store = (await Storage.GetTenantAsync(null, true, default))!;
        const string a = "urn:ngsi-ld:Subscription:batch-a", b = "urn:ngsi-ld:Subscription:batch-b";
        foreach (var id in new[] { a, b })
            await store.WriteSubscriptionAsync(id, _ => new SubscriptionWrite<bool>(true, $$"""{"id":"{{id}}"}"""), default);
        var now = DateTimeOffset.UtcNow;
        OutboxMessage Message(string subscription, string request) => new(0, subscription, "http://127.0.0.1:9/n", request, 0, now);
        await store.AppendNotificationsAsync(null, 0, [Message(a, "a1"), Message(a, "a2"), Message(b, "b1"), Message(a, "a3")], default);

        var due = await store.ReadDueNotificationsAsync(now.AddSeconds(1), 10, 0, default);
        due.Select(m => m.Request).Should().Equal("a1", "a2", "b1", "a3");
        (await store.ReadDueNotificationsAsync(now.AddSeconds(1), 10, due[1].Sequence, default)).Select(m => m.Request).Should().Equal("b1", "a3");
        (await store.RenewLeasesAsync(due.Select(m => m.Sequence).ToList(), now, default)).Should().BeEquivalentTo(due.Select(m => m.Sequence));

        await store.RecordDeliveriesAsync(
        [
            new DeliveryRecord(due[0].Sequence, a, DeliveryOutcome.Retry, now, now.AddMinutes(1), 0),
            new DeliveryRecord(due[1].Sequence, a, DeliveryOutcome.Delivered, now, null, 0),
            new DeliveryRecord(due[2].Sequence, b, DeliveryOutcome.Delivered, now, null, 0),
        ], default);
        (await store.RenewLeasesAsync(due.Select(m => m.Sequence).ToList(), now, default)).Should().BeEquivalentTo([due[0].Sequence, due[3].Sequence]);
        var later = now.AddSeconds(5);
        await store.RecordDeliveriesAsync(
        [
            new DeliveryRecord(due[0].Sequence, a, DeliveryOutcome.Delivered, later, null, 1), // the retry went through
            new DeliveryRecord(due[3].Sequence, a, DeliveryOutcome.GaveUp, later, null, 0),
        ], default);

        (await store.ReadDueNotificationsAsync(now.AddHours(1), 10, 0, default)).Should().BeEmpty();
        var statusA = (await store.GetSubscriptionAsync(a, default))!.Status;
        (statusA.TimesSent, statusA.TimesFailed).Should().Be((3L, 2L), "three notifications, of which a1 failed once and a3 for good");
        statusA.LastSuccess.Should().BeCloseTo(later, TimeSpan.FromMilliseconds(1));
        statusA.LastFailure.Should().BeCloseTo(later, TimeSpan.FromMilliseconds(1));
        var statusB = (await store.GetSubscriptionAsync(b, default))!.Status;
        (statusB.TimesSent, statusB.TimesFailed).Should().Be((1L, 0L));
    }

    [ContractFact]
    public async Task Messages_delivered_inside_another_ones_notification_leave_the_outbox_and_count_once()
    {
        var store = (await Storage.GetTenantAsync(null, true, default))!;
        const string subscription = "urn:ngsi-ld:Subscription:merged";
        await store.WriteSubscriptionAsync(subscription, _ => new SubscriptionWrite<bool>(true, $$"""{"id":"{{subscription}}"}"""), default);
        var now = DateTimeOffset.UtcNow;
        await store.AppendNotificationsAsync(null, 0, new[] { "m1", "m2", "m3" }.Select(r => new OutboxMessage(0, subscription, "http://127.0.0.1:9/n", r, 0, now)).ToList(), default);
        var due = await store.ReadDueNotificationsAsync(now.AddSeconds(1), 10, 0, default);

        await store.RecordDeliveriesAsync(due.Select((m, i) =>
            new DeliveryRecord(m.Sequence, subscription, DeliveryOutcome.Delivered, now, null, 0) { CarriedByAnother = i > 0 }).ToList(), default);

        (await store.ReadDueNotificationsAsync(now.AddHours(1), 10, 0, default)).Should().BeEmpty();
        var status = (await store.GetSubscriptionAsync(subscription, default))!.Status;
        (status.TimesSent, status.TimesFailed).Should().Be((1L, 0L), "one notification carried the three messages");
        status.LastSuccess.Should().BeCloseTo(now, TimeSpan.FromMilliseconds(1));
    }

    [ContractFact]
    public async Task Deleting_a_subscription_removes_its_pending_notifications()
    {
        var store = (await Storage.GetTenantAsync(null, true, default))!;
        const string subscription = "urn:ngsi-ld:Subscription:gone";
        await store.WriteSubscriptionAsync(subscription, _ => new SubscriptionWrite<bool>(true, "{}"), default);
        var now = DateTimeOffset.UtcNow;
        await store.AppendNotificationsAsync(null, 0, [new OutboxMessage(0, subscription, "http://127.0.0.1:9/n", "pending", 0, now)], default);
        var pending = (await store.ReadDueNotificationsAsync(now.AddSeconds(1), 10, default)).Single();

        await store.WriteSubscriptionAsync(subscription, current => new SubscriptionWrite<bool>(current is not null, null), default);

        (await store.GetSubscriptionAsync(subscription, default)).Should().BeNull();
        (await store.RenewLeaseAsync(pending.Sequence, now, default)).Should().BeFalse();
        (await store.ReadDueNotificationsAsync(now.AddHours(1), 10, default)).Should().BeEmpty();
    }

    [ContractFact]
    public async Task Deleting_a_registration_subscription_removes_its_pending_notifications_and_no_one_else_s()
    {
        var store = (await Storage.GetTenantAsync(null, true, default))!;
        var registrations = store.Registrations!;
        const string subscription = "urn:ngsi-ld:Subscription:csub-gone", other = "urn:ngsi-ld:Subscription:csub-kept";
        var now = DateTimeOffset.UtcNow;
        OutboxMessage Notification(string id) => new(0, RegistrationSubscriptionKey.ForOutbox(id), "http://127.0.0.1:9/n", id, 0, now);
        foreach (var id in new[] { subscription, other })
            await registrations.WriteRegistrationSubscriptionAsync(id, _ => new RegistrationSubscriptionWrite<bool>(true, "{}", []), default);
        // A registration deleted just before the subscription owes it a notification (the ETSI suite's teardown).
        const string registration = "urn:ngsi-ld:ContextSourceRegistration:owed";
        await registrations.WriteRegistrationAsync(registration, _ => new RegistrationWrite<bool>(true, "{}", []), default);
        await registrations.WriteRegistrationAsync(registration, _ => new RegistrationWrite<bool>(true, null, [Notification(subscription), Notification(other)]), default);
        var pending = await store.ReadDueNotificationsAsync(now.AddSeconds(1), 10, default);
        pending.Should().HaveCount(2);

        await registrations.WriteRegistrationSubscriptionAsync(subscription, current => new RegistrationSubscriptionWrite<bool>(current is not null, null, []), default);

        (await registrations.GetRegistrationSubscriptionAsync(subscription, default)).Should().BeNull();
        var left = await store.ReadDueNotificationsAsync(now.AddHours(1), 10, default);
        left.Select(m => m.Request).Should().Equal(other);
        (await store.RenewLeasesAsync(pending.Select(m => m.Sequence).ToList(), now, default)).Should().Equal(left[0].Sequence);
    }

    // The matcher and the registration writes match against subscriptions read before their write: one deleted in between
    // must get no outbox rows after its deletion emptied them (they would be sent after the DELETE was answered, or after
    // a restart). SQLite's single writer orders the two; MongoDB orders them by the subscription's document.

    private static OutboxMessage Pending(string key) => new(0, key, "http://127.0.0.1:9/n", key, 0, DateTimeOffset.UtcNow);

    private static async Task<IEnumerable<string>> OutboxAsync(ITenantStore store) =>
        (await store.ReadDueNotificationsAsync(DateTimeOffset.UtcNow.AddHours(1), 10, default)).Select(m => m.SubscriptionId);

    [ContractFact]
    public async Task Notifications_matched_for_a_subscription_deleted_since_are_not_appended()
    {
        var store = (await Storage.GetTenantAsync(null, true, default))!;
        const string kept = "urn:ngsi-ld:Subscription:kept", gone = "urn:ngsi-ld:Subscription:gone";
        await store.WriteSubscriptionAsync(kept, _ => new SubscriptionWrite<bool>(true, "{}"), default);

        await store.AppendNotificationsAsync("matcher", 7, [Pending(kept), Pending(gone)], default);

        (await OutboxAsync(store)).Should().Equal(kept);
        (await store.ReadCursorAsync("matcher", default)).Should().Be(7, "the change was matched all the same");
    }

    [ContractFact]
    public async Task Registration_notifications_for_a_registration_subscription_deleted_since_are_not_appended()
    {
        var store = (await Storage.GetTenantAsync(null, true, default))!;
        var registrations = store.Registrations!;
        const string kept = "urn:ngsi-ld:Subscription:csub-kept", gone = "urn:ngsi-ld:Subscription:csub-gone";
        await registrations.WriteRegistrationSubscriptionAsync(kept, _ => new RegistrationSubscriptionWrite<bool>(true, "{}", []), default);

        await registrations.WriteRegistrationAsync("urn:ngsi-ld:ContextSourceRegistration:r", _ => new RegistrationWrite<bool>(true, "{}",
            [Pending(RegistrationSubscriptionKey.ForOutbox(kept)), Pending(RegistrationSubscriptionKey.ForOutbox(gone))]), default);

        (await OutboxAsync(store)).Should().Equal(RegistrationSubscriptionKey.ForOutbox(kept));
    }

    [ContractFact]
    public async Task Pausing_a_subscription_removes_its_pending_notifications_and_no_one_else_s()
    {
        var store = (await Storage.GetTenantAsync(null, true, default))!;
        const string paused = "urn:ngsi-ld:Subscription:paused", other = "urn:ngsi-ld:Subscription:other";
        foreach (var id in new[] { paused, other })
            await store.WriteSubscriptionAsync(id, _ => new SubscriptionWrite<bool>(true, "{}"), default);
        await store.AppendNotificationsAsync(null, 0, [Pending(paused), Pending(other), Pending(paused)], default);

        await store.WriteSubscriptionAsync(paused, _ => new SubscriptionWrite<bool>(true, """{"paused":true}""") { DropsPending = true }, default);

        (await store.GetSubscriptionAsync(paused, default))!.Document.Should().Be("""{"paused":true}""");
        (await OutboxAsync(store)).Should().Equal(other);
    }

    [ContractFact]
    public async Task Pausing_a_registration_subscription_removes_its_pending_notifications()
    {
        var store = (await Storage.GetTenantAsync(null, true, default))!;
        var registrations = store.Registrations!;
        const string paused = "urn:ngsi-ld:Subscription:csub-paused";
        var key = RegistrationSubscriptionKey.ForOutbox(paused);
        await registrations.WriteRegistrationSubscriptionAsync(paused, _ => new RegistrationSubscriptionWrite<bool>(true, "{}", []), default);
        await registrations.WriteRegistrationAsync("urn:ngsi-ld:ContextSourceRegistration:r", _ => new RegistrationWrite<bool>(true, "{}", [Pending(key)]), default);
        (await OutboxAsync(store)).Should().Equal(key);

        await registrations.WriteRegistrationSubscriptionAsync(paused, _ => new RegistrationSubscriptionWrite<bool>(true, "{}", []) { DropsPending = true }, default);

        (await OutboxAsync(store)).Should().BeEmpty();
        (await registrations.GetRegistrationSubscriptionAsync(paused, default)).Should().NotBeNull();
    }

    [ContractFact]
    public async Task A_withdrawn_notification_leaves_the_outbox_and_counts_nowhere()
    {
        var store = (await Storage.GetTenantAsync(null, true, default))!;
        const string subscription = "urn:ngsi-ld:Subscription:withdrawn";
        await store.WriteSubscriptionAsync(subscription, _ => new SubscriptionWrite<bool>(true, "{}"), default);
        var now = DateTimeOffset.UtcNow;
        await store.AppendNotificationsAsync(null, 0, [Pending(subscription), Pending(subscription)], default);
        var due = await store.ReadDueNotificationsAsync(now.AddSeconds(1), 10, default);

        await store.RecordDeliveriesAsync(
        [
            new DeliveryRecord(due[0].Sequence, subscription, DeliveryOutcome.Withdrawn, now, null, 0),
            new DeliveryRecord(due[1].Sequence, subscription, DeliveryOutcome.Withdrawn, now, null, 2),
        ], default);

        (await OutboxAsync(store)).Should().BeEmpty();
        var status = (await store.GetSubscriptionAsync(subscription, default))!.Status;
        (status.TimesSent, status.TimesFailed, status.LastSuccess, status.LastFailure).Should().Be((0L, 0L, (DateTimeOffset?)null, (DateTimeOffset?)null));
    }
}

public sealed class SqliteStorageContractTests : StorageContractTests
{
    private readonly SqliteTestDirectory _directory = new("contract");

    protected override Task<IEntityStorage> OpenAsync() => Task.FromResult(_directory.Open());

    protected override Task CleanUpAsync() => _directory.DeleteAsync();
}

/// <summary>
/// A SQLite data directory of its own for one test class instance, created at once and deleted afterwards (pools
/// cleared first: a pooled connection keeps its file open).
/// </summary>
public sealed class SqliteTestDirectory : IDisposable
{
    public SqliteTestDirectory(string purpose)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "kontext-tests", purpose + "-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    /// <summary>The tenant file a test builds by hand (the default tenant's name).</summary>
    public string DbPath => File("kontext.db");

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public IEntityStorage Open() => new SqliteStorage(Path);

    public Task DeleteAsync()
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(Path, true); } catch (IOException) { }
    }
}
