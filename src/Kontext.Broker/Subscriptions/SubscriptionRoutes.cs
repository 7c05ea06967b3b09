using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Broker.Http;
using Kontext.Broker.Notifications;
using Kontext.Broker.Outbound;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using Kontext.Ngsi.Subscriptions;

namespace Kontext.Broker.Subscriptions;

/// <summary>The subscription resources (clauses 5.8, 6.10–6.11): create, list, retrieve, update, delete.</summary>
internal static class SubscriptionRoutes
{
    public static void MapSubscriptions(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/ngsi-ld/v1/subscriptions");
        // The handlers' services are singletons, handed to them here: a parameter the framework binds would be resolved
        // from the request's service scope, opening one per request.
        var services = app.ServiceProvider;
        var changes = services.GetRequiredService<SubscriptionChanges>();
        var policy = services.GetRequiredService<OutboundPolicy>();
        var processor = services.GetRequiredService<ContextProcessor>();
        var forwarding = services.GetRequiredService<ContextSources.SubscriptionForwarding>();
        var outcomes = services.GetRequiredService<DeliveryOutcomes>();
        group.MapPost("", (HttpContext http) => CreateAsync(http, changes, policy, processor, forwarding));
        group.MapGet("", (NgsiRequest request) => ListAsync(request, outcomes, processor));
        group.MapGet("{subscriptionId}", (NgsiRequest request, string subscriptionId) => RetrieveAsync(request, subscriptionId, outcomes, processor));
        group.MapPatch("{subscriptionId}", (HttpContext http, string subscriptionId) => UpdateAsync(http, subscriptionId, changes, policy, processor, forwarding));
        group.MapDelete("{subscriptionId}", (NgsiRequest request, string subscriptionId) => DeleteAsync(request, subscriptionId, changes, forwarding));
    }

    private static async Task CreateAsync(HttpContext http, SubscriptionChanges changes, OutboundPolicy policy, ContextProcessor processor,
        ContextSources.SubscriptionForwarding forwarding)
    {
        var request = await NgsiRequest.ReadWithBodyAsync(http);
        var subscription = SubscriptionParser.Parse(request.Body!, request.Context, DateTimeOffset.UtcNow);
        CheckEndpoint(subscription, policy);
        await CheckJsonldContextAsync(subscription, processor, http.RequestAborted);
        var contextUrl = await NgsiResponse.ContextUrlAsync(request);
        // An inline @context is named by the ImplicitlyCreated @context made for it (clause 5.13.1), which is then the
        // subscription's jsonldContext unless the subscriber chose one.
        if (request.Context.UserContext is JsonObject or JsonArray && !subscription.Body.ContainsKey("jsonldContext"))
            subscription.Body["jsonldContext"] = contextUrl;
        var document = SubscriptionDocument.Create(subscription.Body, request.Context.UserContext, contextUrl);
        var store = await request.TenantStoreAsync(forWrite: true);
        await changes.CreateAsync(store, subscription.Id, document, http.RequestAborted);
        await forwarding.CreatedAsync(request, store, subscription, request.Context.UserContext, contextUrl, http.RequestAborted);
        http.Response.StatusCode = StatusCodes.Status201Created;
        http.Response.Headers.Location = "/ngsi-ld/v1/subscriptions/" + HeaderIri.PathSegment(subscription.Id);
    }

    private static async Task ListAsync(NgsiRequest request, DeliveryOutcomes outcomes, ContextProcessor processor)
    {
        var http = request.Http;
        var page = Pagination.Read(request);
        var store = await request.TenantStoreAsync(forWrite: false);
        // Read fresh from the store: the delivery counters change with every notification.
        var all = await store.ListSubscriptionsAsync(http.RequestAborted);
        var selected = all.Skip(page.Offset).Take(page.Limit).ToList();
        if (page.Count) http.Response.Headers["NGSILD-Results-Count"] = all.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        page.WriteLinks(http, selected.Count, all.Count);
        var sysAttrs = QueryParameters.Options(request, "sysAttrs").Contains("sysAttrs");
        var bodyContext = await NgsiResponse.PrepareAsync(request);
        await using var writer = new Utf8JsonWriter(http.Response.BodyWriter, NgsiJson.WriterOptions);
        writer.WriteStartArray();
        foreach (var stored in selected)
            Render(SubscriptionRegistry.ForDisplay(stored), stored, outcomes.Latest(request.Tenant, stored.Id), sysAttrs, request.Context, processor, bodyContext).WriteTo(writer);
        writer.WriteEndArray();
        await writer.FlushAsync(http.RequestAborted);
    }

    private static async Task RetrieveAsync(NgsiRequest request, string subscriptionId, DeliveryOutcomes outcomes, ContextProcessor processor)
    {
        var http = request.Http;
        var id = SubscriptionId(subscriptionId);
        var sysAttrs = QueryParameters.Options(request, "sysAttrs").Contains("sysAttrs");
        var store = await request.TenantStoreAsync(forWrite: false);
        var stored = await store.GetSubscriptionAsync(id, http.RequestAborted) ?? throw NgsiException.NotFound($"The subscription '{id}' does not exist");
        var subscription = SubscriptionRegistry.ForDisplay(stored);
        var bodyContext = await NgsiResponse.PrepareAsync(request);
        // A notification on the wire may already be at the client that asks: its outcome first (read-your-notification).
        await outcomes.SettledAsync(request.Tenant, stored.Id, DeliveryOutcomes.SettleLimit);
        await using var writer = new Utf8JsonWriter(http.Response.BodyWriter, NgsiJson.WriterOptions);
        Render(subscription, stored, outcomes.Latest(request.Tenant, stored.Id), sysAttrs, request.Context, processor, bodyContext).WriteTo(writer);
        await writer.FlushAsync(http.RequestAborted);
    }

    private static async Task UpdateAsync(HttpContext http, string subscriptionId, SubscriptionChanges changes, OutboundPolicy policy, ContextProcessor processor,
        ContextSources.SubscriptionForwarding forwarding)
    {
        var request = await NgsiRequest.ReadWithBodyAsync(http);
        var id = SubscriptionId(subscriptionId);
        var store = await request.TenantStoreAsync(forWrite: false);
        var fragment = request.Body!;
        if (fragment.Count == 0 || fragment.All(p => p.Key == "@context")) throw NgsiException.BadRequestData("The subscription fragment is empty");
        var stored = await store.GetSubscriptionAsync(id, http.RequestAborted) ?? throw NgsiException.NotFound($"The subscription '{id}' does not exist");
        var (body, storedContext, storedContextUrl) = SubscriptionDocument.Read(stored.Document);
        var merged = SubscriptionParser.Merge(body, fragment);
        if (!merged.ContainsKey("type")) merged["type"] = "Subscription";
        // A fragment sent with its own @context brings it: the subscription is from then on read with that context (the
        // merged body keeps the terms of both). A fragment without one, such as {"isActive": true}, changes no term, so
        // the subscription keeps the context it was written with, and its types and attributes keep their meaning.
        var keepContext = request.Context.IsCoreOnly && storedContext is not null;
        var context = keepContext ? await processor.ProcessAsync(storedContext, http.RequestAborted) : request.Context;
        var subscription = SubscriptionParser.Parse(merged, context, DateTimeOffset.UtcNow, checkExpiry: fragment.ContainsKey("expiresAt"));
        // Only what the fragment changes is checked again: pausing a subscription must not depend on its endpoint or context.
        if (fragment.ContainsKey("notification")) CheckEndpoint(subscription, policy);
        if (fragment.ContainsKey("jsonldContext")) await CheckJsonldContextAsync(subscription, processor, http.RequestAborted);
        var (writtenContext, writtenContextUrl) = keepContext
            ? (storedContext, storedContextUrl)
            : (request.Context.UserContext, await NgsiResponse.ContextUrlAsync(request));
        var document = SubscriptionDocument.Create(subscription.Body, writtenContext, writtenContextUrl);
        await changes.UpdateAsync(store, id, document, subscription.IsActive, http.RequestAborted);
        await forwarding.UpdatedAsync(request, store, subscription, writtenContext, writtenContextUrl, http.RequestAborted);
        NgsiResponse.NoContent(request);
    }

    private static async Task DeleteAsync(NgsiRequest request, string subscriptionId, SubscriptionChanges changes, ContextSources.SubscriptionForwarding forwarding)
    {
        var http = request.Http;
        var id = SubscriptionId(subscriptionId);
        var store = await request.TenantStoreAsync(forWrite: false);
        await changes.DeleteAsync(store, id, http.RequestAborted);
        await forwarding.DeletedAsync(store, id, http.RequestAborted);
        NgsiResponse.NoContent(request);
    }

    private static string SubscriptionId(string raw)
    {
        var id = Uri.UnescapeDataString(raw);
        if (!Validate.IsUri(id)) throw NgsiException.BadRequestData($"The subscription id '{id}' is not a URI");
        return id;
    }

    /// <summary>
    /// An endpoint the outbound policy refuses without a DNS look-up (a literal address, a name on the Deny list) is
    /// refused here. A name that resolves to a refused address is found at delivery: the notification fails and the
    /// subscription shows why (lastFailureReason). Resolving names here would make subscription creation a DNS oracle
    /// and tie it to the network's state at that moment.
    /// </summary>
    private static void CheckEndpoint(Subscription subscription, OutboundPolicy policy)
    {
        var uri = subscription.Notification.Endpoint.Uri;
        if (policy.Precheck(uri) is { } reason)
            throw NgsiException.BadRequestData($"Invalid subscription: the broker's outbound policy does not permit the endpoint '{uri}': {reason}");
    }

    /// <summary>A jsonldContext must be had now (504 LdContextNotAvailable otherwise, clause 5.8.1), not at the first notification.</summary>
    private static async Task CheckJsonldContextAsync(Subscription subscription, ContextProcessor processor, CancellationToken cancellationToken)
    {
        if (subscription.Body["jsonldContext"] is JsonValue v && v.TryGetValue<string>(out var url))
            await processor.ProcessAsync(JsonValue.Create(url), cancellationToken);
    }

    /// <summary>
    /// The subscription as written, its terms compacted with the reader's context, with the broker's read-only members
    /// (status and delivery counters). isActive is shown when the client gave it: its default is what status tells.
    /// </summary>
    private static JsonObject Render(Subscription subscription, StoredSubscription stored, DeliveryOutcomes.Outcome? latest, bool sysAttrs,
        JsonLdContext reader, ContextProcessor processor, JsonNode? bodyContext)
    {
        var now = DateTimeOffset.UtcNow;
        // The writer's context is only used when already processed: showing a subscription never waits for a remote @context.
        var body = !JsonNode.DeepEquals(subscription.Context, reader.UserContext) && processor.TryGetProcessed(subscription.Context, out var written)
            ? SubscriptionTerms.Compact(subscription.Body, written, reader)
            : subscription.Body;
        var output = new JsonObject { ["id"] = subscription.Id, ["type"] = "Subscription" };
        foreach (var (member, value) in body)
            if (member is not ("id" or "type")) output[member] = value?.DeepClone();
        // A change-driven subscription without notificationTrigger has the default triggers (Table 5.2.12-1); shown as such.
        if (subscription.TimeInterval is null && !output.ContainsKey("notificationTrigger"))
            output["notificationTrigger"] = new JsonArray("attributeCreated", "attributeUpdated");
        output["status"] = subscription.Status(now);
        var status = stored.Status;
        if (output["notification"] is JsonObject notification)
        {
            var lastSuccess = Latest(status.LastSuccess, latest?.LastSuccess);
            var lastFailure = Latest(status.LastFailure, latest?.LastFailure);
            // Counters of what happened (Table 5.2.14-1, 0..1): shown once there is something to count.
            // The store counts once the delivery is recorded; what this process saw already counts (read-your-notification).
            var timesSent = Math.Max(status.TimesSent, latest?.Sent ?? 0);
            var timesFailed = Math.Max(status.TimesFailed, latest?.Failed ?? 0);
            if (timesSent > 0) notification["timesSent"] = timesSent;
            if (timesFailed > 0) notification["timesFailed"] = timesFailed;
            if (status.LastNotification is { } last) notification["lastNotification"] = Validate.Format(last);
            if (lastSuccess is { } success) notification["lastSuccess"] = Validate.Format(success);
            if (lastFailure is { } failure) notification["lastFailure"] = Validate.Format(failure);
            var failed = lastFailure is { } f && (lastSuccess is not { } s || f > s);
            if (status.LastNotification is not null || lastSuccess is not null || lastFailure is not null) notification["status"] = failed ? "failed" : "ok";
            // Not an NGSI-LD member (Orion's NGSIv2 has one of that name): why the last attempt failed, when this process knows.
            if (failed && latest?.FailureReason is { } reason) notification["lastFailureReason"] = reason;
        }
        if (sysAttrs)
        {
            output["createdAt"] = Validate.Format(stored.CreatedAt);
            output["modifiedAt"] = Validate.Format(stored.ModifiedAt);
        }
        if (bodyContext is not null) output["@context"] = bodyContext.DeepClone();
        return output;
    }

    private static DateTimeOffset? Latest(DateTimeOffset? stored, DateTimeOffset? seen) =>
        stored is { } a && seen is { } b ? (a > b ? a : b) : stored ?? seen;
}
