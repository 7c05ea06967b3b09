using Kontext.Ngsi.Subscriptions;
using Kontext.Ngsi.Query;
using Kontext.Ngsi.Formats;
using System.Collections.Concurrent;
using Kontext.Broker.Subscriptions;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Notifications;
using Kontext.Ngsi.Storage;
using Microsoft.Extensions.Options;

namespace Kontext.Broker.Notifications;

/// <summary>
/// Consumes each tenant's change log from a persisted cursor, matches every change against the subscriptions and
/// writes the notifications to the durable outbox together with the new cursor (D5). Also fires periodic
/// (timeInterval) subscriptions. Runs beside the writes: a write's response never waits for matching.
/// </summary>
internal sealed class NotificationMatcher(
    IEntityStorage storage, SubscriptionRegistry registry, NotificationSignal signal, MatcherCursor cursors,
    IOptions<NotificationOptions> options, ILogger<NotificationMatcher> logger) : BackgroundService
{
    private const int ChangesPerRound = 500;
    /// <summary>
    /// When each throttled or periodic subscription last had a notification appended to the outbox. Set only once the
    /// append committed (<see cref="Appended"/>): a round that fails is matched again, and must not find its own
    /// notification's time here and throttle it away.
    /// </summary>
    private readonly ConcurrentDictionary<(string Tenant, string Subscription), DateTimeOffset> _lastSent = new();
    private readonly ConcurrentDictionary<string, byte> _periodic = new(StringComparer.Ordinal);
    /// <summary>When the cursor of each tenant that nothing follows last jumped (Environment.TickCount64).</summary>
    private readonly Dictionary<string, long> _jumped = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        storage.Committed += signal.Committed;
        var sweep = new TenantSweep(storage, options.Value);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var tenants = await sweep.SelectAsync(signal.TakeChanged(), _periodic.Keys.Select(k => k.Length == 0 ? null : k), stoppingToken);
                foreach (var tenant in tenants)
                {
                    try
                    {
                        await MatchTenantAsync(tenant, stoppingToken);
                    }
                    catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { break; }
                    catch (Exception ex)
                    {
                        logger.LogError(ex, "Notification matching failed for tenant {Tenant}; retrying", tenant ?? "(default)");
                        signal.Wake(tenant); // its changes are still after the cursor: look again next round
                    }
                }
                try { await signal.WaitForChangesAsync(options.Value.PollInterval, stoppingToken); }
                catch (OperationCanceledException) { break; }
            }
        }
        finally
        {
            storage.Committed -= signal.Committed;
        }
    }

    private async Task MatchTenantAsync(string? tenant, CancellationToken cancellationToken)
    {
        var store = await storage.GetTenantAsync(tenant, create: false, cancellationToken);
        if (store is null) return;
        signal.Unfollowed(tenant); // before the list is read: a subscription written meanwhile wakes and clears it
        var subscriptions = await registry.GetAsync(store, cancellationToken);
        // timeInterval subscriptions fire without any change: their tenants are visited every round.
        if (subscriptions.Any(s => s.Subscription.TimeInterval is not null)) _periodic[tenant ?? ""] = 0;
        else _periodic.TryRemove(tenant ?? "", out _);
        await FirePeriodicAsync(store, subscriptions, cancellationToken);

        // Nothing follows the log: no read after each commit, no cursor write; the cursor jumps now and then (pruning
        // the log) and before every subscription write (MatcherCursor).
        if (!MatcherCursor.Followed(subscriptions, DateTimeOffset.UtcNow))
        {
            var now = Environment.TickCount64;
            if (_jumped.TryGetValue(tenant ?? "", out var at) && now - at < (long)options.Value.SweepInterval.TotalMilliseconds) return;
            await cursors.JumpWhenIdleAsync(store, cancellationToken);
            _jumped[tenant ?? ""] = now;
            return;
        }
        _jumped.Remove(tenant ?? "");
        signal.Followed(tenant);

        using var held = await cursors.HoldAsync(tenant, cancellationToken);
        while (true)
        {
            var cursor = await store.ReadCursorAsync(MatcherCursor.Name, cancellationToken);
            var changes = await store.ReadChangesAsync(cursor, ChangesPerRound, cancellationToken);
            if (changes.Count == 0) return;
            // The list is taken after the changes are read: a subscription whose creation was acknowledged before a change
            // was made has invalidated the registry by then, so the change is matched against it. (A list taken once per
            // round could predate a subscription created while the round ran and miss the change that followed it.)
            subscriptions = await registry.GetAsync(store, cancellationToken);
            var messages = new List<OutboxMessage>();
            var now = DateTimeOffset.UtcNow;
            var live = subscriptions.Where(s => MatcherCursor.Follows(s, now)).ToList();
            // Nothing follows the log any more: what is left of it is jumped over, not read (MatcherCursor).
            if (live.Count == 0) return;
            var matched = live.Select(_ => new List<EntityChange>()).ToList();
            var sent = new Dictionary<(string, string), DateTimeOffset>();
            foreach (var record in changes)
            {
                if (Decode(record, tenant) is not { } change) continue;
                for (var i = 0; i < live.Count; i++)
                {
                    var item = live[i];
                    var seen = change.Select(item.Subscription.DatasetIds);
                    if (!ChangeMatcher.Triggers(item.Subscription, seen) || IsThrottled(store, item, sent, now)) continue;
                    // Throttling counts from the first change it lets through: the round's later ones wait for the period.
                    if (item.Subscription.Throttling is not null) sent[(store.Name ?? "", item.Subscription.Id)] = now;
                    matched[i].Add(seen);
                }
            }
            for (var i = 0; i < live.Count; i++)
            {
                foreach (var batch in NotificationBatches.Split(matched[i], MaxEntitiesOf(live[i])))
                    messages.Add(await MessageAsync(store, live[i], batch, now, cancellationToken));
            }
            await store.AppendNotificationsAsync(MatcherCursor.Name, changes[^1].Sequence, messages, cancellationToken);
            Appended(sent);
            if (messages.Count > 0) signal.WakeDispatcher(tenant);
        }
    }

    /// <summary>
    /// Changes one notification of the subscription may carry. A join's linked entities follow the notified ones in `data`
    /// (flat) and could repeat one of them, so such a subscription keeps one change per notification.
    /// </summary>
    private int MaxEntitiesOf(RegisteredSubscription item) =>
        item.Subscription.Notification.Join is null ? options.Value.MaxEntitiesPerNotification : 1;

    /// <summary>
    /// A change record as entities. One that cannot be read is logged and passed over: matching must not stall a
    /// tenant's notifications behind it forever.
    /// </summary>
    private EntityChange? Decode(ChangeRecord record, string? tenant)
    {
        try
        {
            return new EntityChange(
                record.BeforeJson is null ? null : EntityJson.Deserialize(record.BeforeJson),
                record.AfterJson is null ? null : EntityJson.Deserialize(record.AfterJson),
                record.At);
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or InvalidOperationException or FormatException)
        {
            logger.LogError(ex, "Change {Sequence} of {Entity} in tenant {Tenant} cannot be read; no notification is sent for it",
                record.Sequence, record.EntityId, tenant ?? "(default)");
            return null;
        }
    }

    /// <summary>
    /// Throttling (clause 5.2.12): at most one notification per subscription within the throttling period, counting the
    /// ones this round has let through (<paramref name="sent"/>, not yet appended).
    /// </summary>
    private bool IsThrottled(ITenantStore store, RegisteredSubscription item, Dictionary<(string, string), DateTimeOffset> sent, DateTimeOffset now)
    {
        if (item.Subscription.Throttling is not { } seconds) return false;
        return LastSent(store, item, sent) is { } last && now - last < TimeSpan.FromSeconds(seconds);
    }

    private DateTimeOffset? LastSent(ITenantStore store, RegisteredSubscription item, Dictionary<(string, string), DateTimeOffset> sent)
    {
        var key = (store.Name ?? "", item.Subscription.Id);
        return sent.TryGetValue(key, out var pending) ? pending
            : _lastSent.TryGetValue(key, out var appended) ? appended : item.Stored.Status.LastNotification;
    }

    /// <summary>The round's notifications are in the outbox: their times now throttle (and space periodic ones) for good.</summary>
    private void Appended(Dictionary<(string, string), DateTimeOffset> sent)
    {
        foreach (var (key, at) in sent) _lastSent[key] = at;
    }

    private async Task<OutboxMessage> MessageAsync(ITenantStore store, RegisteredSubscription item, IReadOnlyList<EntityChange> changes, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var joined = await LinkedAsync(store, item.Subscription, changes, cancellationToken);
        var request = NotificationBuilder.Build(item.Subscription, item.Context, changes, now, store.Name, joined);
        return new OutboxMessage(0, item.Subscription.Id, item.Subscription.Notification.Endpoint.Uri.ToString(), request.Serialize(), 0, now);
    }

    /// <summary>
    /// The entities a subscription's join reaches from the notified entities (clause 4.5.23), read as they are when the
    /// change is matched, one batched read per hop. Beyond the cap of linked entities the notification goes without them.
    /// </summary>
    private async Task<LinkedEntities?> LinkedAsync(ITenantStore store, Subscription subscription, IReadOnlyList<EntityChange> changes, CancellationToken cancellationToken)
    {
        if (subscription.Notification.Join is not { } mode) return null;
        var roots = changes.Where(c => c.After is not null).Select(c => (c.After!, subscription.Notification.Fields)).ToList();
        if (roots.Count == 0) return null;
        try
        {
            return await LinkedEntities.FetchAsync(mode, subscription.Notification.JoinLevel, roots, async (ids, ct) =>
                (await store.QueryAsync(new EntityPageRequest(new EntityQuery(Ids: new(ids)), 0, ids.Count, false), ct)).Entities,
                Http.JoinRequest.MaxLinkedEntities, cancellationToken);
        }
        // A busy broker's refusal (a reader wait that ran out) is not a reason to leave them out: the match runs again later.
        catch (Kontext.Ngsi.Errors.NgsiException ex) when (ex.Error.RetryAfter is null)
        {
            logger.LogWarning("Subscription {Subscription}: linked entities left out of a notification: {Reason}", subscription.Id, ex.Message);
            return null;
        }
    }

    /// <summary>timeInterval subscriptions: every interval, the entities matching the subscription, in one notification.</summary>
    private async Task FirePeriodicAsync(ITenantStore store, IReadOnlyList<RegisteredSubscription> subscriptions, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        var messages = new List<OutboxMessage>();
        var sent = new Dictionary<(string, string), DateTimeOffset>();
        foreach (var item in subscriptions)
        {
            if (item.Subscription.TimeInterval is not { } interval || !item.Subscription.IsActive || item.Subscription.IsExpired(now)) continue;
            if (LastSent(store, item, sent) is { } last && now - last < TimeSpan.FromSeconds(interval)) continue;
            var page = await store.QueryAsync(new EntityPageRequest(item.Subscription.Filter, 0, 1000, false), cancellationToken);
            sent[(store.Name ?? "", item.Subscription.Id)] = now;
            if (page.Entities.Count == 0) continue;
            messages.Add(await MessageAsync(store, item, page.Entities.Select(e => new EntityChange(e, e).Select(item.Subscription.DatasetIds)).ToList(), now, cancellationToken));
        }
        if (messages.Count > 0) await store.AppendNotificationsAsync(null, 0, messages, cancellationToken);
        Appended(sent);
        if (messages.Count > 0) signal.WakeDispatcher(store.Name);
    }
}
