using Kontext.Broker.Hosting;
using Kontext.Broker.Notifications;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Storage;
using Microsoft.Extensions.Options;

namespace Kontext.Broker.Subscriptions;

/// <summary>
/// The one way subscriptions change: each write is followed by invalidating the tenant's parsed subscriptions (the
/// registry reloads them) and waking the matcher, so a change made after it is matched against the new set without
/// waiting for the next refresh. Create, update and delete all come through here; nobody else invalidates or wakes.
/// </summary>
internal sealed class SubscriptionChanges(SubscriptionRegistry registry, NotificationSignal signal, MatcherCursor cursors, WithdrawnSubscriptions withdrawals,
    IOptions<KontextOptions> options)
{
    /// <summary>Create Subscription (5.8.1): AlreadyExists when the id is taken, LimitExceeded beyond the tenant's cap.</summary>
    public async Task CreateAsync(ITenantStore store, string id, string document, CancellationToken cancellationToken)
    {
        var cap = options.Value.Limits.MaxSubscriptionsPerTenant;
        if (cap > 0 && (await store.ListSubscriptionsAsync(cancellationToken)).Count >= cap)
            throw new NgsiException(NgsiError.LimitExceeded($"This tenant holds its maximum of {cap} subscriptions (Kontext:Limits:MaxSubscriptionsPerTenant)"));
        await WriteAsync(store, id, current => current is not null
            ? throw new NgsiException(NgsiError.AlreadyExists($"The subscription '{id}' already exists"))
            : new SubscriptionWrite<bool>(true, document), cancellationToken);
    }

    /// <summary>
    /// Update Subscription (5.8.2): the new document; ResourceNotFound when it is gone. A subscription left paused
    /// (<paramref name="active"/> false) has its pending notifications dropped with the write, and none of them is sent
    /// once it is answered. Dropped, not held for a reactivation: clause 5.8.6 sends a notification only while its
    /// subscription is active; the matcher passes over the changes made while it is paused, so held ones would be an
    /// arbitrary older part of its changes, with the entity as it was then, arriving late; and a subscription may stay
    /// paused for good, its queue with it. Made active again, it notifies the changes made from then on.
    /// </summary>
    public async Task UpdateAsync(ITenantStore store, string id, string document, bool active, CancellationToken cancellationToken)
    {
        await WriteAsync(store, id, current => current is null
            ? throw NotFound(id)
            : new SubscriptionWrite<bool>(true, document) { DropsPending = !active }, cancellationToken);
        if (!active) withdrawals.Withdrawn(store.Name, id);
    }

    /// <summary>Delete Subscription (5.8.5); ResourceNotFound when there is none. No notification of it goes out afterwards.</summary>
    public async Task DeleteAsync(ITenantStore store, string id, CancellationToken cancellationToken)
    {
        await WriteAsync(store, id, current => current is null
            ? throw NotFound(id)
            : new SubscriptionWrite<bool>(true, null), cancellationToken);
        withdrawals.Withdrawn(store.Name, id);
    }

    private async Task WriteAsync(ITenantStore store, string id, Func<StoredSubscription?, SubscriptionWrite<bool>> decide, CancellationToken cancellationToken)
    {
        // A subscription that makes the tenant's log followed must not see the changes made while nothing followed it.
        await cursors.JumpWhenIdleAsync(store, cancellationToken);
        await store.WriteSubscriptionAsync(id, decide, cancellationToken);
        registry.Invalidate(store.Name);
        signal.Wake(store.Name);
    }

    private static NgsiException NotFound(string id) => NgsiException.NotFound($"The subscription '{id}' does not exist");
}
