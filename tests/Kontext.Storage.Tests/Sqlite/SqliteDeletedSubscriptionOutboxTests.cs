using Kontext.Ngsi.Storage;
using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Tests.Sqlite;

/// <summary>
/// The matcher and the registration writes match against subscriptions read before their writer job: a subscription
/// deleted in between must not get outbox rows after its deletion emptied them (they would be sent after the DELETE
/// was answered, or after a restart).
/// </summary>
public sealed class SqliteDeletedSubscriptionOutboxTests : IAsyncLifetime
{
    private readonly SqliteTestDirectory _directory = new("deleted-subscription-outbox");
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

    private static OutboxMessage Pending(string key) => new(0, key, "http://127.0.0.1:9/n", key, 0, DateTimeOffset.UtcNow);

    private async Task<IEnumerable<string>> OutboxAsync() =>
        (await _store.ReadDueNotificationsAsync(DateTimeOffset.UtcNow.AddHours(1), 10, default)).Select(m => m.SubscriptionId);

    [Fact]
    public async Task Notifications_matched_for_a_subscription_deleted_since_are_not_appended()
    {
        const string kept = "urn:ngsi-ld:Subscription:kept", gone = "urn:ngsi-ld:Subscription:gone";
        await _store.WriteSubscriptionAsync(kept, _ => new SubscriptionWrite<bool>(true, "{}"), default);

        await _store.AppendNotificationsAsync("matcher", 7, [Pending(kept), Pending(gone)], default);

        (await OutboxAsync()).Should().Equal(kept);
        (await _store.ReadCursorAsync("matcher", default)).Should().Be(7, "the change was matched all the same");
    }

    [Fact]
    public async Task Registration_notifications_for_a_registration_subscription_deleted_since_are_not_appended()
    {
        var registrations = _store.Registrations!;
        const string kept = "urn:ngsi-ld:Subscription:csub-kept", gone = "urn:ngsi-ld:Subscription:csub-gone";
        await registrations.WriteRegistrationSubscriptionAsync(kept, _ => new RegistrationSubscriptionWrite<bool>(true, "{}", []), default);

        await registrations.WriteRegistrationAsync("urn:ngsi-ld:ContextSourceRegistration:r", _ => new RegistrationWrite<bool>(true, "{}",
            [Pending(RegistrationSubscriptionKey.ForOutbox(kept)), Pending(RegistrationSubscriptionKey.ForOutbox(gone))]), default);

        (await OutboxAsync()).Should().Equal(RegistrationSubscriptionKey.ForOutbox(kept));
    }
}
