using Kontext.Ngsi.Subscriptions;

namespace Kontext.Ngsi.Storage;

/// <summary>
/// Subscriptions, the matcher's cursor over the change log and the durable notification outbox of one tenant (D5).
/// Appending notifications and advancing the cursor commit together, so a crash between matching and delivery
/// loses nothing: the change is matched again, or its notifications are already in the outbox.
/// </summary>
public interface INotificationStore
{
    Task<IReadOnlyList<StoredSubscription>> ListSubscriptionsAsync(CancellationToken cancellationToken);

    Task<StoredSubscription?> GetSubscriptionAsync(string id, CancellationToken cancellationToken);

    /// <summary>Reads the subscription, lets <paramref name="decide"/> compute its new document (null deletes), and writes it atomically.</summary>
    Task<T> WriteSubscriptionAsync<T>(string id, Func<StoredSubscription?, SubscriptionWrite<T>> decide, CancellationToken cancellationToken);

    Task<long> ReadCursorAsync(string name, CancellationToken cancellationToken);

    /// <summary>Adds notifications to the outbox and, when <paramref name="cursorName"/> is given, moves that cursor, in one transaction.</summary>
    Task AppendNotificationsAsync(string? cursorName, long cursorPosition, IReadOnlyList<OutboxMessage> messages, CancellationToken cancellationToken);

    /// <summary>Outbox messages due for (another) delivery attempt, oldest first.</summary>
    Task<IReadOnlyList<OutboxMessage>> ReadDueNotificationsAsync(DateTimeOffset now, int max, CancellationToken cancellationToken) =>
        ReadDueNotificationsAsync(now, max, 0, cancellationToken);

    /// <summary>
    /// Outbox messages due for (another) delivery attempt whose sequence is above <paramref name="after"/>, oldest first:
    /// a dispatcher that holds the messages it read reads on from the last one instead of reading them again.
    /// </summary>
    Task<IReadOnlyList<OutboxMessage>> ReadDueNotificationsAsync(DateTimeOffset now, int max, long after, CancellationToken cancellationToken);

    /// <summary>
    /// The earliest time after <paramref name="now"/> at which an outbox message waiting for a retry comes due, or null
    /// when none waits. Time passing raises no signal, so a dispatcher that reads the outbox when signalled looks again
    /// then (a retry stored before a restart). Null by default: a store shared by processes is read at every poll anyway.
    /// </summary>
    Task<DateTimeOffset?> ReadNextRetryAtAsync(DateTimeOffset now, CancellationToken cancellationToken) => Task.FromResult<DateTimeOffset?>(null);

    /// <summary>
    /// Called before a delivery attempt: true when this process may still deliver <paramref name="sequence"/>. False
    /// when the message left the outbox (its subscription was deleted) or, on a store shared by several processes, when
    /// another process has taken it over after this one's lease ran out; the caller must then drop it, not send it.
    /// A store with leases extends this process's lease here.
    /// </summary>
    async Task<bool> RenewLeaseAsync(long sequence, DateTimeOffset now, CancellationToken cancellationToken) =>
        (await RenewLeasesAsync([sequence], now, cancellationToken)).Contains(sequence);

    /// <summary><see cref="RenewLeaseAsync"/> for many messages in one round trip: the sequences this process still holds.</summary>
    Task<IReadOnlySet<long>> RenewLeasesAsync(IReadOnlyList<long> sequences, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Records one delivery attempt (see <see cref="RecordDeliveriesAsync"/>), counted as a first attempt.</summary>
    Task RecordDeliveryAsync(long sequence, string subscriptionId, DeliveryOutcome outcome, DateTimeOffset at, DateTimeOffset? retryAt, CancellationToken cancellationToken) =>
        RecordDeliveriesAsync([new DeliveryRecord(sequence, subscriptionId, outcome, at, retryAt, 0)], cancellationToken);

    /// <summary>
    /// Records delivery attempts, in one transaction where the store has them, and their effect on the subscriptions'
    /// counters: delivered (removed from the outbox), failed with a retry time (kept, rescheduled), failed for good
    /// (removed) or withdrawn (removed, counted nowhere). The counters count notifications, not attempts (clause 5.2.14): timesSent grows by one with a
    /// notification's first attempt, timesFailed by one with its first failed attempt (see <see cref="DeliveryRecord"/>).
    /// </summary>
    Task RecordDeliveriesAsync(IReadOnlyList<DeliveryRecord> records, CancellationToken cancellationToken);
}

public sealed record StoredSubscription(string Id, string Document, SubscriptionStatus Status, DateTimeOffset CreatedAt, DateTimeOffset ModifiedAt);

/// <summary>The subscription document to store (null: delete it) and the caller's result; <see cref="Write"/> false leaves the store as it is.</summary>
public sealed record SubscriptionWrite<T>(T Result, string? Document, bool Write = true)
{
    /// <summary>The subscription's pending notifications leave the outbox with the write (it is paused); a deletion always drops them.</summary>
    public bool DropsPending { get; init; }
}

/// <summary>A notification waiting to be delivered: the endpoint and the complete request (headers and body) as rendered at match time.</summary>
public sealed record OutboxMessage(long Sequence, string SubscriptionId, string Endpoint, string Request, int Attempts, DateTimeOffset CreatedAt);

/// <summary>
/// What became of a delivery attempt: delivered, failed and retried later, failed for good; or withdrawn, not attempted
/// because its subscription was deleted, paused or expired before it went out (it leaves the outbox and counts nowhere).
/// </summary>
public enum DeliveryOutcome { Delivered, Retry, GaveUp, Withdrawn }

/// <summary>
/// One delivery attempt's outcome. <paramref name="FailedBefore"/> is how many attempts of this notification had failed
/// before this one (the outbox's attempts): 0 makes the attempt the notification's first, which counts it in timesSent,
/// and a failure with 0 counts it in timesFailed; later attempts only move lastSuccess / lastFailure.
/// </summary>
public sealed record DeliveryRecord(long Sequence, string SubscriptionId, DeliveryOutcome Outcome, DateTimeOffset At, DateTimeOffset? RetryAt, int FailedBefore)
{
    /// <summary>Delivered inside another outbox message's notification (merged at delivery): that one counts in timesSent.</summary>
    public bool CarriedByAnother { get; init; }

    public bool CountsAsSent => FailedBefore == 0 && !CarriedByAnother && Outcome != DeliveryOutcome.Withdrawn;

    public bool CountsAsFailed => FailedBefore == 0 && Outcome is DeliveryOutcome.Retry or DeliveryOutcome.GaveUp;

    /// <summary>Whether the attempt moves its subscription's counters or times at all.</summary>
    public bool Counts => Outcome != DeliveryOutcome.Withdrawn;
}
