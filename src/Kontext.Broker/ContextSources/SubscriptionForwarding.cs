using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Kontext.Broker.Hosting;
using Kontext.Broker.Http;
using Kontext.Broker.Subscriptions;
using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;
using Kontext.Ngsi.Storage;
using Kontext.Ngsi.Subscriptions;
using Microsoft.Extensions.Options;

namespace Kontext.Broker.ContextSources;

/// <summary>
/// Distributed subscriptions (clauses 5.8.1.4, 5.8.2.4, 5.8.5.4): a local subscription that is not localOnly gets a kept
/// registration subscription (<see cref="SourcesSubscription"/>), and every registration it matches that offers
/// createSubscription gets a reduced copy at its source, notifying this broker's inbound route
/// (<see cref="ReceiveSourceNotification"/>). The legs follow the local subscription (update, delete) and the
/// registrations (a new one wires a leg, a deleted or changed one drops or changes it).
/// <para>
/// The calls to sources run in the background, one tenant at a time, after the local write is acknowledged: a slow or
/// failing source never fails or holds up the local subscription (its leg shows "failed" with the reason, and is tried
/// again at the tenant's next subscription or registration change). A request that already passed this broker (Via,
/// clause 6.3.18) is not distributed again, and the Via received is carried on each leg's calls.
/// </para>
/// </summary>
internal sealed class SubscriptionForwarding(
    IEntityStorage storage, SubscriptionRegistry registry, ContextProcessor processor, ContextSourceClient client, ContextSourceIdentity identity,
    IOptions<KontextOptions> kontext, IOptions<FederationOptions> federation, IHostApplicationLifetime lifetime, ILogger<SubscriptionForwarding> logger)
{
    public const string InboundRoute = "/ngsi-ld/ex/remote-notify";
    public const string CreateSubscription = "createSubscription";
    private const string RemotePrefix = "urn:ngsi-ld:Subscription:distsub:";

    private readonly ConcurrentDictionary<string, TenantWork> _work = new(StringComparer.Ordinal);

    /// <summary>Per tenant: one reconciliation at a time, and whether another was asked for meanwhile.</summary>
    private sealed class TenantWork
    {
        public int Running;
        public int Again;
    }

    /// <summary>After Create Subscription: keeps the registration subscription and wires the legs in the background.</summary>
    public async Task CreatedAsync(NgsiRequest request, ITenantStore store, Subscription subscription, JsonNode? context, string contextUrl, CancellationToken cancellationToken)
    {
        if (store.Registrations is not { } registrations || SubscriptionNarrowing.IsLocalOnly(subscription) || CameBack(request)) return;
        var cap = kontext.Value.Limits.MaxRegistrationSubscriptionsPerTenant;
        if (cap > 0 && (await registrations.ListRegistrationSubscriptionsAsync(cancellationToken)).Count >= cap)
        {
            logger.LogWarning("Subscription {Id} stays local: the tenant holds its maximum of {Cap} registration subscriptions", subscription.Id, cap);
            return;
        }
        var via = request.Http.Request.Headers.Via.ToString();
        var kept = new SourcesSubscription(subscription.Id, NotifyUri(request), string.IsNullOrWhiteSpace(via) ? null : via, []);
        await registrations.WriteRegistrationSubscriptionAsync(SourcesSubscription.IdFor(subscription.Id),
            _ => new RegistrationSubscriptionWrite<bool>(true, kept.Document(subscription, context, contextUrl), []), cancellationToken);
        Kick(store.Name);
    }

    /// <summary>After Update Subscription: the legs are brought in line (a subscription made localOnly loses them).</summary>
    public async Task UpdatedAsync(NgsiRequest request, ITenantStore store, Subscription subscription, JsonNode? context, string contextUrl, CancellationToken cancellationToken)
    {
        if (store.Registrations is not { } registrations) return;
        var stored = await registrations.GetRegistrationSubscriptionAsync(SourcesSubscription.IdFor(subscription.Id), cancellationToken);
        if (stored is null || SourcesSubscription.Read(stored) is not { } kept) return;
        if (SubscriptionNarrowing.IsLocalOnly(subscription))
        {
            await DeletedAsync(store, subscription.Id, cancellationToken);
            return;
        }
        // The kept registration subscription shows the subscription's entities as they are now; its legs are kept.
        await registrations.WriteRegistrationSubscriptionAsync(stored.Id, current => current is null
            ? new RegistrationSubscriptionWrite<bool>(false, null, [], Write: false)
            : new RegistrationSubscriptionWrite<bool>(true, (kept with { Legs = SourcesSubscription.Read(current)?.Legs ?? [] }).Document(subscription, context, contextUrl), []),
            cancellationToken);
        Kick(store.Name);
    }

    /// <summary>After Delete Subscription: the kept registration subscription goes at once, the remote copies in the background.</summary>
    public async Task DeletedAsync(ITenantStore store, string subscriptionId, CancellationToken cancellationToken)
    {
        if (store.Registrations is not { } registrations) return;
        var legs = await registrations.WriteRegistrationSubscriptionAsync(SourcesSubscription.IdFor(subscriptionId), current =>
            current is not null && SourcesSubscription.Read(current) is { } kept
                ? new RegistrationSubscriptionWrite<IReadOnlyList<RemoteLeg>>(kept.Legs, null, [])
                : new RegistrationSubscriptionWrite<IReadOnlyList<RemoteLeg>>([], null, [], Write: false), cancellationToken);
        if (legs.Count == 0) return;
        var tenant = store.Name;
        _ = Task.Run(async () =>
        {
            foreach (var leg in legs) await DeleteRemoteAsync(leg, tenant, null, lifetime.ApplicationStopping);
        });
    }

    /// <summary>Asks for the tenant's legs to be brought in line with its subscriptions and registrations (in the background).</summary>
    public void Kick(string? tenant)
    {
        var work = _work.GetOrAdd(tenant ?? "", _ => new TenantWork());
        Interlocked.Exchange(ref work.Again, 1);
        if (Interlocked.CompareExchange(ref work.Running, 1, 0) != 0) return;
        _ = Task.Run(async () =>
        {
            try
            {
                while (Interlocked.Exchange(ref work.Again, 0) == 1 && !lifetime.ApplicationStopping.IsCancellationRequested)
                {
                    try { await ReconcileAsync(tenant, lifetime.ApplicationStopping); }
                    catch (Exception ex) when (!lifetime.ApplicationStopping.IsCancellationRequested)
                    {
                        logger.LogWarning(ex, "Forwarding the subscriptions of tenant {Tenant} to context sources failed; tried again at its next change", tenant ?? "(default)");
                    }
                }
            }
            finally
            {
                Interlocked.Exchange(ref work.Running, 0);
                // A kick that came between the last round and the release is not lost.
                if (Volatile.Read(ref work.Again) == 1) Kick(tenant);
            }
        });
    }

    /// <summary>True when the request already passed this broker (Via, clause 6.3.18): its subscription is not distributed again.</summary>
    private bool CameBack(NgsiRequest request) =>
        ViaChain.Aliases(request.Http.Request.Headers.Via.ToArray()).Contains(identity.Alias(request.Tenant));

    /// <summary>Where the sources notify: Kontext:Federation:NotificationBaseUrl, else the address the request came to.</summary>
    private string NotifyUri(NgsiRequest request)
    {
        var http = request.Http.Request;
        var root = federation.Value.NotificationBaseUrl is { Length: > 0 } configured ? configured.TrimEnd('/') : $"{http.Scheme}://{http.Host}{http.PathBase}";
        return root + InboundRoute + (request.Tenant is { } tenant ? "?tenant=" + Uri.EscapeDataString(tenant) : "");
    }

    private async Task ReconcileAsync(string? tenant, CancellationToken cancellationToken)
    {
        var store = await storage.GetTenantAsync(tenant, create: false, cancellationToken);
        if (store?.Registrations is not { } registrations) return;
        var kept = (await registrations.ListRegistrationSubscriptionsAsync(cancellationToken))
            .Select(s => (Stored: s, Kept: SourcesSubscription.Read(s))).Where(k => k.Kept is not null).ToList();
        if (kept.Count == 0) return;
        var now = DateTimeOffset.UtcNow;
        var live = (await registrations.ListRegistrationsAsync(cancellationToken))
            .Select(s => (Stored: s, Registration: RegistrationStores.Read(s))).Where(r => !r.Registration.IsExpired(now)).ToList();
        var locals = (await registry.GetAsync(store, cancellationToken)).ToDictionary(s => s.Subscription.Id, StringComparer.Ordinal);
        foreach (var (stored, sources) in kept)
        {
            if (!locals.TryGetValue(sources!.LocalId, out var local))
            {
                // Gone, or not loadable now: only a subscription that no longer exists loses its legs.
                if (await store.GetSubscriptionAsync(sources.LocalId, cancellationToken) is null) await DeletedAsync(store, sources.LocalId, cancellationToken);
                continue;
            }
            await ReconcileOneAsync(registrations, stored.Id, sources, local, live.Select(l => (l.Registration, l.Stored.Document)).ToList(), tenant, cancellationToken);
        }
    }

    private async Task ReconcileOneAsync(IRegistrationStore registrations, string keptId, SourcesSubscription sources, RegisteredSubscription local,
        IReadOnlyList<(Registration Registration, string Document)> live, string? tenant, CancellationToken cancellationToken)
    {
        var subscription = local.Subscription;
        var (_, _, contextUrl) = SubscriptionDocument.Read(local.Stored.Document);
        var compact = (await processor.ProcessAsync(subscription.Context, cancellationToken)).CompactIri;
        var legs = new List<RemoteLeg>();
        var changed = false;
        foreach (var leg in sources.Legs)
        {
            var match = live.FirstOrDefault(l => l.Registration.Id == leg.RegistrationId && l.Registration.Supports(CreateSubscription));
            var body = match.Registration is null ? null : SubscriptionNarrowing.Reduce(subscription, match.Registration, leg.RemoteId, sources.NotifyUri, compact);
            if (body is null)
            {
                await DeleteRemoteAsync(leg, tenant, sources.Via, cancellationToken); // the registration is gone or no longer matches
                changed = true;
                continue;
            }
            var next = leg with { Registration = match.Document };
            if (leg.State != "ok") next = await CreateRemoteAsync(next, body, contextUrl, tenant, sources.Via, cancellationToken);
            else if (SubscriptionNarrowing.Fragment(leg.Sent, body) is { } fragment) next = await UpdateRemoteAsync(next, body, fragment, contextUrl, tenant, sources.Via, cancellationToken);
            changed |= next != leg;
            legs.Add(next);
        }
        foreach (var (registration, document) in live)
        {
            if (!registration.Supports(CreateSubscription) || legs.Any(l => l.RegistrationId == registration.Id)) continue;
            var remoteId = RemotePrefix + Guid.NewGuid().ToString("N");
            if (SubscriptionNarrowing.Reduce(subscription, registration, remoteId, sources.NotifyUri, compact) is not { } body) continue;
            // Recorded before the call: the source may notify before it has answered.
            var pending = new RemoteLeg(registration.Id, document, remoteId, body, "pending");
            await SaveLegsAsync(registrations, keptId, [.. legs, pending], cancellationToken);
            legs.Add(await CreateRemoteAsync(pending, body, contextUrl, tenant, sources.Via, cancellationToken));
            changed = true;
        }
        if (!changed) return;
        if (!await SaveLegsAsync(registrations, keptId, legs, cancellationToken))
            foreach (var leg in legs) await DeleteRemoteAsync(leg, tenant, sources.Via, cancellationToken); // deleted meanwhile: its copies go too
    }

    /// <summary>Stores the legs; false when the kept registration subscription is gone (its local subscription was deleted).</summary>
    private static Task<bool> SaveLegsAsync(IRegistrationStore registrations, string keptId, IReadOnlyList<RemoteLeg> legs, CancellationToken cancellationToken) =>
        registrations.WriteRegistrationSubscriptionAsync(keptId, current => current is null || !SourcesSubscription.IsKept(current)
            ? new RegistrationSubscriptionWrite<bool>(false, null, [], Write: false)
            : new RegistrationSubscriptionWrite<bool>(true, SourcesSubscription.WithLegs(current.Document, legs), []), cancellationToken);

    private async Task<RemoteLeg> CreateRemoteAsync(RemoteLeg leg, JsonObject body, string contextUrl, string? tenant, string? via, CancellationToken cancellationToken)
    {
        var registration = RegistrationStores.Read(new StoredRegistration(leg.RegistrationId, leg.Registration, new(), default, default));
        var response = await client.SendAsync(registration, new ContextSourceRequest(HttpMethod.Post, "subscriptions", contextUrl, via, body.ToJsonString()), tenant, cancellationToken);
        if (response.Status == 409) // the source holds it already (an earlier try that got no answer): bring it up to date
        {
            var whole = (JsonObject)body.DeepClone();
            whole.Remove("id");
            return await UpdateRemoteAsync(leg, body, whole, contextUrl, tenant, via, cancellationToken);
        }
        return Outcome(leg with { Sent = body }, response, "creating");
    }

    private async Task<RemoteLeg> UpdateRemoteAsync(RemoteLeg leg, JsonObject body, JsonObject fragment, string contextUrl, string? tenant, string? via, CancellationToken cancellationToken)
    {
        var registration = RegistrationStores.Read(new StoredRegistration(leg.RegistrationId, leg.Registration, new(), default, default));
        var response = await client.SendAsync(registration,
            new ContextSourceRequest(HttpMethod.Patch, "subscriptions/" + Uri.EscapeDataString(leg.RemoteId), contextUrl, via, fragment.ToJsonString()), tenant, cancellationToken);
        return Outcome(leg with { Sent = body }, response, "updating");
    }

    private async Task DeleteRemoteAsync(RemoteLeg leg, string? tenant, string? via, CancellationToken cancellationToken)
    {
        var registration = RegistrationStores.Read(new StoredRegistration(leg.RegistrationId, leg.Registration, new(), default, default));
        var response = await client.SendAsync(registration, new ContextSourceRequest(HttpMethod.Delete, "subscriptions/" + Uri.EscapeDataString(leg.RemoteId), Via: via), tenant, cancellationToken);
        if (!response.Answered || response.Status is >= 300 and not 404)
            logger.LogInformation("The copy {Remote} of a subscription could not be deleted at the source of {Registration}: {Reason}",
                leg.RemoteId, leg.RegistrationId, response.Detail ?? $"it answered {response.Status}");
    }

    private RemoteLeg Outcome(RemoteLeg leg, ContextSourceResponse response, string what)
    {
        if (response.Answered && response.Status is >= 200 and < 300) return leg with { State = "ok", Detail = null };
        var reason = response.Detail ?? $"the context source answered {response.Status} when {what} the copy";
        logger.LogInformation("Subscription copy {Remote} at the source of {Registration}: {Reason}", leg.RemoteId, leg.RegistrationId, reason);
        return leg with { State = "failed", Detail = reason };
    }

    /// <summary>
    /// The local subscription and the leg a source's notification belongs to, or null when none of the tenant's kept
    /// registration subscriptions has a leg with that remote id (an unknown or stale id is never delivered).
    /// </summary>
    public async Task<(SourcesSubscription Sources, RemoteLeg Leg)?> FindLegAsync(ITenantStore store, string remoteId, CancellationToken cancellationToken)
    {
        if (store.Registrations is not { } registrations || !remoteId.StartsWith(RemotePrefix, StringComparison.Ordinal)) return null;
        foreach (var stored in await registrations.ListRegistrationSubscriptionsAsync(cancellationToken))
            if (stored.Document.Contains(remoteId, StringComparison.Ordinal) && SourcesSubscription.Read(stored) is { } sources && sources.Legs.FirstOrDefault(l => l.RemoteId == remoteId) is { } leg)
                return (sources, leg);
        return null;
    }

    /// <summary>
    /// What this broker and the other sources hold of an entity a source notified with splitEntities (clause 5.8.6: "retrieved
    /// locally and from all Context Sources that have information about these Entities, except for the one from which the
    /// Notification has been received"). A source that fails is left out: the notification goes with what could be had.
    /// </summary>
    public async Task<IReadOnlyList<Entity>> ElsewhereAsync(ITenantStore store, Entity notified, string fromRegistration, CancellationToken cancellationToken)
    {
        var found = new List<Entity>();
        var page = await store.QueryAsync(new EntityPageRequest(new EntityQuery(Ids: new([notified.Id])), 0, 1, false), cancellationToken);
        found.AddRange(page.Entities);
        if (store.Registrations is not { } registrations) return found;
        var filter = new RegistrationFilter(Entities: [ProvisionForwarding.Entity(notified.Id, notified.Types)]);
        var now = DateTimeOffset.UtcNow;
        foreach (var stored in await registrations.ListRegistrationsAsync(cancellationToken))
        {
            var registration = RegistrationStores.Read(stored);
            if (registration.Id == fromRegistration || registration.IsExpired(now) || !registration.Supports(RegistrationOperations.RetrieveEntity) || !filter.Matches(registration)) continue;
            var response = await client.SendAsync(registration, new ContextSourceRequest(HttpMethod.Get, "entities/" + Uri.EscapeDataString(notified.Id)), store.Name, cancellationToken);
            if (response.Status != 200) continue;
            try { found.Add(SourceEntities.ReadOne(JsonNode.Parse(response.Body), ContextProcessor.Core)); }
            catch (Exception ex) when (ex is System.Text.Json.JsonException or Kontext.Ngsi.Errors.NgsiException)
            {
                logger.LogInformation("The source of {Registration} answered no entity for {Entity}: {Reason}", registration.Id, notified.Id, ex.Message);
            }
        }
        return found;
    }
}
