using Kontext.Broker.Notifications;
using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.ContextSources;

/// <summary>What a registration write decides: the caller's result and the registration after it (null: deleted); Write false leaves it.</summary>
internal sealed record RegistrationChange<T>(T Result, Registration? After, bool Write = true);

/// <summary>
/// The one way registrations change: the new state and the notifications the change causes to the tenant's registration
/// subscriptions commit together in the store (D5), then the dispatcher is woken. Create, update, delete and the lazy
/// removal of expired registrations all come through here.
/// </summary>
internal sealed class RegistrationChanges(RegistrationSubscriptionCatalog catalog, NotificationSignal signal, SubscriptionForwarding forwarding)
{
    public async Task<T> WriteAsync<T>(IRegistrationStore store, string? tenant, string id, Func<Registration?, RegistrationChange<T>> decide, CancellationToken cancellationToken)
    {
        var subscriptions = await catalog.LoadAllAsync(store, cancellationToken);
        var notified = false;
        var result = await store.WriteRegistrationAsync(id, current =>
        {
            var before = current is null ? null : RegistrationStores.Read(current);
            var change = decide(before);
            if (!change.Write) return new RegistrationWrite<T>(change.Result, null, [], Write: false);
            var messages = RegistrationSubscriptionCatalog.Notifications(subscriptions, before, change.After, DateTimeOffset.UtcNow, tenant);
            notified = messages.Count > 0;
            return new RegistrationWrite<T>(change.Result, change.After is null ? null : RegistrationStores.Document(change.After), messages);
        }, cancellationToken);
        if (notified) signal.WakeDispatcher(tenant);
        // A registration that appeared, changed or went may wire, change or drop remote legs of distributed subscriptions.
        forwarding.Kick(tenant);
        return result;
    }

    /// <summary>Deletes a registration found expired (unless it was renewed meanwhile); its subscribers hear noLongerMatching.</summary>
    public Task RemoveExpiredAsync(IRegistrationStore store, string? tenant, string id, CancellationToken cancellationToken) =>
        WriteAsync(store, tenant, id, current => current is not null && current.IsExpired(DateTimeOffset.UtcNow)
            ? new RegistrationChange<bool>(true, null)
            : new RegistrationChange<bool>(false, current, Write: false), cancellationToken);
}
