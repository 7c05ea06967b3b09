namespace Kontext.Ngsi.Storage;

/// <summary>
/// The federation facet of a tenant's store (clauses 5.9–5.11): context source registrations and the subscriptions to
/// them. A store that keeps them exposes this as <see cref="ITenantStore.Registrations"/> (both stores do). A registration write
/// commits the notifications it causes to the tenant's outbox in the same transaction (D5), so a registration change is
/// never acknowledged without the duty to notify it; the entity notifications' dispatcher delivers them.
/// </summary>
public interface IRegistrationStore
{
    /// <summary>Every registration of the tenant, in creation order (expired ones too: the caller decides).</summary>
    Task<IReadOnlyList<StoredRegistration>> ListRegistrationsAsync(CancellationToken cancellationToken);

    Task<StoredRegistration?> GetRegistrationAsync(string id, CancellationToken cancellationToken);

    /// <summary>
    /// Reads the registration, lets <paramref name="decide"/> compute its new document (null deletes it) and the
    /// notifications the change causes, and commits both atomically. An exception from <paramref name="decide"/> writes nothing.
    /// </summary>
    Task<T> WriteRegistrationAsync<T>(string id, Func<StoredRegistration?, RegistrationWrite<T>> decide, CancellationToken cancellationToken);

    /// <summary>Counts one forwarded request to the registration's source (its status members, clause 5.2.9).</summary>
    Task RecordForwardingAsync(string id, bool succeeded, DateTimeOffset at, CancellationToken cancellationToken);

    Task<IReadOnlyList<StoredSubscription>> ListRegistrationSubscriptionsAsync(CancellationToken cancellationToken);

    Task<StoredSubscription?> GetRegistrationSubscriptionAsync(string id, CancellationToken cancellationToken);

    /// <summary>
    /// Reads the registration subscription, lets <paramref name="decide"/> compute its document (null deletes it, with its
    /// pending notifications) and commits it with <paramref name="notifications"/> (the initial notification of clause 5.11.2).
    /// </summary>
    Task<T> WriteRegistrationSubscriptionAsync<T>(string id, Func<StoredSubscription?, RegistrationSubscriptionWrite<T>> decide, CancellationToken cancellationToken);
}

/// <summary>A stored registration: its expanded document (see Kontext.Ngsi.ContextSources.Registration), status and times.</summary>
public sealed record StoredRegistration(string Id, string Document, RegistrationStatus Status, DateTimeOffset CreatedAt, DateTimeOffset ModifiedAt);

/// <summary>How the distributed operations sent to a registration's source went (status members of clause 5.2.9).</summary>
public sealed record RegistrationStatus(long TimesSent = 0, long TimesFailed = 0, DateTimeOffset? LastSuccess = null, DateTimeOffset? LastFailure = null);

/// <summary>The registration document to store (null: delete it), the notifications to commit with it, and the caller's result.</summary>
public sealed record RegistrationWrite<T>(T Result, string? Document, IReadOnlyList<OutboxMessage> Notifications, bool Write = true);

/// <summary>The registration subscription document (null: delete it), notifications to commit with it, the caller's result.</summary>
public sealed record RegistrationSubscriptionWrite<T>(T Result, string? Document, IReadOnlyList<OutboxMessage> Notifications, bool Write = true)
{
    /// <summary>As <see cref="SubscriptionWrite{T}.DropsPending"/>: its pending notifications leave the outbox with the write (it is paused).</summary>
    public bool DropsPending { get; init; }
}

/// <summary>
/// Registration subscriptions share the outbox with entity subscriptions. Their messages carry this key instead of the bare
/// id, so recording a delivery updates the right subscription even when an entity subscription has the same id. The
/// prefix holds a space, which no subscription id (a URI) can.
/// </summary>
public static class RegistrationSubscriptionKey
{
    public const string Prefix = "csource ";

    public static string ForOutbox(string subscriptionId) => Prefix + subscriptionId;

    /// <summary>True, with the registration subscription's id, when an outbox key names one.</summary>
    public static bool TryRead(string outboxKey, out string subscriptionId)
    {
        var matches = outboxKey.StartsWith(Prefix, StringComparison.Ordinal);
        subscriptionId = matches ? outboxKey[Prefix.Length..] : "";
        return matches;
    }
}
