using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;
using Kontext.Ngsi.Storage;
using Kontext.Ngsi.Subscriptions;

namespace Kontext.Broker.Snapshots;

/// <summary>
/// A snapshot's frozen entities as a read-only tenant store (clause 6.3.22): a request carrying NGSILD-Snapshot gets this
/// store instead of the tenant's, so retrieval and queries run unchanged over the copy, with the one evaluator (D3).
/// Every write is refused; a snapshot has no history, no change log and no subscriptions.
/// </summary>
internal sealed class SnapshotView(string? tenant, IReadOnlyList<Entity> entities) : ITenantStore
{
    private readonly Dictionary<string, Entity> _byId = entities.ToDictionary(e => e.Id, StringComparer.Ordinal);

    public string? Name => tenant;

    public ITemporalStore? History => null;
    public IRegistrationStore? Registrations => null;
    public IAdapterStore? Adapters => null;

    public Task<Entity?> GetEntityAsync(string id, CancellationToken cancellationToken) =>
        Task.FromResult(_byId.TryGetValue(id, out var entity) ? entity.Clone() : null);

    public Task<EntityPage> QueryAsync(EntityPageRequest request, CancellationToken cancellationToken)
    {
        var matches = entities.Where(e => EntityMatcher.Matches(e, request.Query)
                                          && (request.AnyOfAttributes is null || request.AnyOfAttributes.Any(e.Attributes.ContainsKey))).ToList();
        var page = matches.Skip(request.Offset).Take(request.Limit).Select(e => e.Clone()).ToList();
        return Task.FromResult(new EntityPage(page, request.Count ? matches.Count : null));
    }

    public Task<IReadOnlyList<TypeStatistic>> ListTypesAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<TypeStatistic>>(entities.SelectMany(e => e.Types).GroupBy(t => t, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => new TypeStatistic(g.Key, g.Count())).ToList());

    public Task<IReadOnlyList<TypeAttributeStatistic>> ListTypeAttributesAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<TypeAttributeStatistic>>(entities
            .SelectMany(e => e.Types.SelectMany(t => e.Attributes.Select(a => (Type: t, Attribute: a.Key, Kinds: a.Value.Select(Attr.Type)))))
            .GroupBy(x => (x.Type, x.Attribute))
            .OrderBy(g => g.Key.Type, StringComparer.Ordinal).ThenBy(g => g.Key.Attribute, StringComparer.Ordinal)
            .Select(g => new TypeAttributeStatistic(g.Key.Type, g.Key.Attribute, g.SelectMany(x => x.Kinds).ToHashSet(StringComparer.Ordinal), g.Count()))
            .ToList());

    public Task<T> WriteAsync<T>(string entityId, Func<Entity?, EntityWrite<T>> decide, CancellationToken cancellationToken) => throw ReadOnly();

    public Task<IReadOnlyList<AttributeInstanceRecord>> ReadHistoryAsync(string entityId, string? attribute, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<AttributeInstanceRecord>>([]);

    public Task<IReadOnlyList<ChangeRecord>> ReadChangesAsync(long afterSequence, int max, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<ChangeRecord>>([]);

    public Task<IReadOnlyList<StoredSubscription>> ListSubscriptionsAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<StoredSubscription>>([]);

    public Task<StoredSubscription?> GetSubscriptionAsync(string id, CancellationToken cancellationToken) => Task.FromResult<StoredSubscription?>(null);

    public Task<T> WriteSubscriptionAsync<T>(string id, Func<StoredSubscription?, SubscriptionWrite<T>> decide, CancellationToken cancellationToken) => throw ReadOnly();

    public Task<long> ReadCursorAsync(string name, CancellationToken cancellationToken) => Task.FromResult(0L);

    public Task<long> ReadLastChangeSequenceAsync(CancellationToken cancellationToken) => Task.FromResult(0L);

    public Task AppendNotificationsAsync(string? cursorName, long cursorPosition, IReadOnlyList<OutboxMessage> messages, CancellationToken cancellationToken) => throw ReadOnly();

    public Task<IReadOnlyList<OutboxMessage>> ReadDueNotificationsAsync(DateTimeOffset now, int max, long after, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<OutboxMessage>>([]);

    public Task<IReadOnlySet<long>> RenewLeasesAsync(IReadOnlyList<long> sequences, DateTimeOffset now, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlySet<long>>(new HashSet<long>());

    public Task RecordDeliveriesAsync(IReadOnlyList<DeliveryRecord> records, CancellationToken cancellationToken) => throw ReadOnly();

    private static NgsiException ReadOnly() =>
        NgsiException.BadRequestData("A snapshot is read-only: send changes without the NGSILD-Snapshot header");
}
