using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Kontext.Broker.Hosting;
using Kontext.Ngsi.Formats;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Notifications;
using Kontext.Ngsi.Storage;
using Kontext.Ngsi.Subscriptions;
using Microsoft.Extensions.Options;

namespace Kontext.Broker.Subscriptions;

/// <summary>A stored subscription read back: the parsed subscription, how to compact its notifications, its counters.</summary>
internal sealed record RegisteredSubscription(Subscription Subscription, NotificationContext Context, StoredSubscription Stored);

/// <summary>
/// The stored form of a subscription: the body as the client wrote it, the @context it was written with, and the URL
/// that names that context in Link headers (a hosted URL for inline contexts).
/// </summary>
internal static class SubscriptionDocument
{
    public static string Create(JsonObject body, JsonNode? context, string contextUrl) =>
        new JsonObject { ["body"] = body.DeepClone(), ["context"] = context?.DeepClone(), ["contextUrl"] = contextUrl }.ToJsonString();

    public static (JsonObject Body, JsonNode? Context, string ContextUrl) Read(string document)
    {
        var node = StoredJson.Parse(document)!.AsObject();
        return (node["body"]!.AsObject(), node["context"]?.DeepClone(), node["contextUrl"]!.GetValue<string>());
    }
}

/// <summary>
/// Parsed subscriptions per tenant, kept in memory: reloaded after any subscription write in this process, and at
/// least every <see cref="Notifications.NotificationOptions.SubscriptionRefresh"/> so that several broker instances
/// over one database see each other's subscriptions. A subscription that cannot be loaded (its @context or
/// jsonldContext cannot be had any more) is left out and tried again with a growing back-off, not on every reload:
/// it never holds up the tenant's other subscriptions, and its failure is logged once per back-off, not per reload.
/// </summary>
internal sealed class SubscriptionRegistry(
    ContextProcessor processor, IOptions<KontextOptions> options, IOptions<Notifications.NotificationOptions> notificationOptions, ILogger<SubscriptionRegistry> logger)
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(30), LastRetry = TimeSpan.FromMinutes(30);
    private readonly ConcurrentDictionary<string, (Task<IReadOnlyList<RegisteredSubscription>> Load, DateTime At, long Version)> _byTenant = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _versions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Tenant, string Id), LoadFailure> _failing = new();
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<IReadOnlyList<RegisteredSubscription>, Dictionary<string, RegisteredSubscription>> _indexes = new();

    private sealed record LoadFailure(DateTimeOffset ModifiedAt, DateTime RetryAt, TimeSpan Backoff);

    public Task<IReadOnlyList<RegisteredSubscription>> GetAsync(ITenantStore store, CancellationToken cancellationToken)
    {
        var key = store.Name ?? "";
        var now = DateTime.UtcNow;
        // The version is read before the load starts: a subscription written after the load read its list bumps the
        // version, so the stale list is not trusted on the next call (a plain remove could race with storing it).
        var version = _versions.GetValueOrDefault(key);
        if (_byTenant.TryGetValue(key, out var cached) && cached.Version == version && now - cached.At < notificationOptions.Value.SubscriptionRefresh)
            return cached.Load;
        var load = LoadAllAsync(store, cancellationToken);
        _byTenant[key] = (load, now, version);
        return load;
    }

    /// <summary>The tenant's subscription <paramref name="id"/> as <see cref="GetAsync"/> has it; null when it is not among them.</summary>
    public async ValueTask<RegisteredSubscription?> FindAsync(ITenantStore store, string id, CancellationToken cancellationToken)
    {
        var list = await GetAsync(store, cancellationToken);
        // Indexed once per loaded list: the dispatcher asks for every notification it takes.
        return _indexes.GetValue(list, Index).GetValueOrDefault(id);
    }

    private static Dictionary<string, RegisteredSubscription> Index(IReadOnlyList<RegisteredSubscription> list)
    {
        var byId = new Dictionary<string, RegisteredSubscription>(list.Count, StringComparer.Ordinal);
        foreach (var item in list) byId[item.Subscription.Id] = item;
        return byId;
    }

    public void Invalidate(string? tenant) => _versions.AddOrUpdate(tenant ?? "", 1, (_, v) => v + 1);

    private async Task<IReadOnlyList<RegisteredSubscription>> LoadAllAsync(ITenantStore store, CancellationToken cancellationToken)
    {
        var tenant = store.Name ?? "";
        var list = new List<RegisteredSubscription>();
        var stored = await store.ListSubscriptionsAsync(cancellationToken);
        foreach (var item in stored)
        {
            var key = (tenant, item.Id);
            var now = DateTime.UtcNow;
            var failure = _failing.TryGetValue(key, out var f) && f.ModifiedAt == item.ModifiedAt ? f : null; // a change retries at once
            if (failure is not null && now < failure.RetryAt) continue;
            try
            {
                list.Add(await LoadAsync(item, cancellationToken));
                if (_failing.TryRemove(key, out _)) logger.LogInformation("Subscription {Id} loads again; its notifications resume", item.Id);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                var backoff = failure is null ? FirstRetry : TimeSpan.FromTicks(Math.Min(failure.Backoff.Ticks * 2, LastRetry.Ticks));
                _failing[key] = new LoadFailure(item.ModifiedAt, now + backoff, backoff);
                if (failure is null)
                    logger.LogWarning("Subscription {Id} cannot be loaded, so it notifies nothing for now; next try in {Backoff}: {Reason}", item.Id, backoff, ex.Message);
                else
                    logger.LogDebug("Subscription {Id} still cannot be loaded; next try in {Backoff}", item.Id, backoff);
            }
        }
        var present = stored.Select(s => s.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var gone in _failing.Keys.Where(k => k.Tenant == tenant && !present.Contains(k.Id)).ToList()) _failing.TryRemove(gone, out _);
        return list;
    }

    public async Task<RegisteredSubscription> LoadAsync(StoredSubscription stored, CancellationToken cancellationToken)
    {
        var (body, context, contextUrl) = SubscriptionDocument.Read(stored.Document);
        var active = await processor.ProcessAsync(context, cancellationToken);
        var subscription = SubscriptionParser.Parse(body, active, DateTimeOffset.UtcNow, checkExpiry: false) with { Context = context };
        return new RegisteredSubscription(subscription, await NotificationContextAsync(subscription, active, context, contextUrl, cancellationToken), stored);
    }

    /// <summary>
    /// The subscription as it is shown (GET): parsed with the core context only, because showing it needs none of its
    /// terms expanded. It never waits for a remote @context, so one unavailable context cannot fail a listing.
    /// </summary>
    public static Subscription ForDisplay(StoredSubscription stored)
    {
        var (body, context, _) = SubscriptionDocument.Read(stored.Document);
        return SubscriptionParser.Parse(body, ContextProcessor.Core, DateTimeOffset.UtcNow, checkExpiry: false) with { Context = context };
    }

    /// <summary>Notifications use the subscription's jsonldContext when it names one, else the context it was created with.</summary>
    private async Task<NotificationContext> NotificationContextAsync(Subscription subscription, JsonLdContext creatorContext, JsonNode? context, string contextUrl, CancellationToken cancellationToken)
    {
        if (subscription.Body["jsonldContext"] is JsonValue v && v.TryGetValue<string>(out var url))
        {
            var named = await processor.ProcessAsync(JsonValue.Create(url), cancellationToken);
            return new NotificationContext(named, url, JsonValue.Create(url)!);
        }
        var core = options.Value.Contexts.CoreContextUrl;
        return new NotificationContext(creatorContext, contextUrl, context?.DeepClone() ?? JsonValue.Create(core)!);
    }
}
