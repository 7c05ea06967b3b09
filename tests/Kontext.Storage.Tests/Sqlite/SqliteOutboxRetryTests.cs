using Kontext.Ngsi.Storage;
using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Tests.Sqlite;

/// <summary>
/// When a stored retry comes due: the dispatcher reads a SQLite outbox only when signalled, and time passing raises no
/// signal, so it asks the store when to look again (a retry stored before a restart).
/// </summary>
public sealed class SqliteOutboxRetryTests : IAsyncLifetime
{
    private const string Subscription = "urn:ngsi-ld:Subscription:retries";
    private readonly SqliteTestDirectory _directory = new("outbox-retry");
    private IEntityStorage _storage = null!;
    private ITenantStore _store = null!;

    public async Task InitializeAsync()
    {
        _storage = _directory.Open();
        _store = (await _storage.GetTenantAsync(null, true, default))!;
    }

    public async Task DisposeAsync()
    {
        await _storage.DisposeAsync();
        SqliteConnection.ClearAllPools();
        await _directory.DeleteAsync();
    }

    [Fact]
    public async Task The_next_retry_time_is_the_earliest_stored_retry_still_ahead()
    {
        var now = DateTimeOffset.UtcNow;
        (await _store.ReadNextRetryAtAsync(now, default)).Should().BeNull("the outbox is empty");
        await _store.WriteSubscriptionAsync(Subscription, _ => new SubscriptionWrite<bool>(true, $$"""{"id":"{{Subscription}}"}"""), default);
        await _store.AppendNotificationsAsync(null, 0,
            [.. new[] { "a", "b", "c" }.Select(request => new OutboxMessage(0, Subscription, "http://127.0.0.1:9/n", request, 0, now))], default);
        var messages = await _store.ReadDueNotificationsAsync(now, 10, default);
        (await _store.ReadNextRetryAtAsync(now, default)).Should().BeNull("a message not yet attempted is due at once");

        await _store.RecordDeliveryAsync(messages[0].Sequence, Subscription, DeliveryOutcome.Retry, now, now.AddMinutes(5), default);
        await _store.RecordDeliveryAsync(messages[1].Sequence, Subscription, DeliveryOutcome.Retry, now, now.AddMinutes(2), default);

        (await _store.ReadNextRetryAtAsync(now, default)).Should().BeCloseTo(now.AddMinutes(2), TimeSpan.FromMilliseconds(1));
        (await _store.ReadNextRetryAtAsync(now.AddMinutes(3), default)).Should().BeCloseTo(now.AddMinutes(5), TimeSpan.FromMilliseconds(1));
        (await _store.ReadNextRetryAtAsync(now.AddMinutes(6), default)).Should().BeNull("every stored retry is due by then");
    }
}
