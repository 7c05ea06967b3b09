using System.Text.Json.Nodes;
using Kontext.Broker.Notifications;
using Kontext.Broker.Outbound;
using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.ContextSources;

/// <summary>
/// A registration subscription as shown (clauses 5.11.4, 5.11.5): the body as written with the broker's read-only members
/// (status, the delivery counters once there is something to count; isActive only when the client gave it, status tells
/// the rest, Table 5.2.12-1), and the checks a written one must pass. The same shape as entity
/// subscriptions (Subscriptions/SubscriptionRoutes), kept apart so neither side's changes reach the other.
/// </summary>
internal static class RegistrationSubscriptionView
{
    public static JsonObject Render(RegistrationSubscription subscription, StoredSubscription stored, DeliveryOutcomes.Outcome? latest, bool sysAttrs, JsonNode? bodyContext)
    {
        var now = DateTimeOffset.UtcNow;
        var parsed = subscription.Subscription;
        var output = new JsonObject { ["id"] = parsed.Id, ["type"] = "Subscription" };
        foreach (var (member, value) in parsed.Body)
            if (member is not ("id" or "type")) output[member] = value?.DeepClone();
        output["status"] = parsed.Status(now);
        var status = stored.Status;
        if (output["notification"] is JsonObject notification)
        {
            // What this process saw already counts, before the store records it (read-your-notification).
            var lastSuccess = Latest(status.LastSuccess, latest?.LastSuccess);
            var lastFailure = Latest(status.LastFailure, latest?.LastFailure);
            var timesSent = Math.Max(status.TimesSent, latest?.Sent ?? 0);
            var timesFailed = Math.Max(status.TimesFailed, latest?.Failed ?? 0);
            if (timesSent > 0) notification["timesSent"] = timesSent;
            if (timesFailed > 0) notification["timesFailed"] = timesFailed;
            var lastNotification = Latest(status.LastNotification, Latest(lastSuccess, lastFailure));
            if (lastNotification is { } last) notification["lastNotification"] = Validate.Format(last);
            if (lastSuccess is { } success) notification["lastSuccess"] = Validate.Format(success);
            if (lastFailure is { } failure) notification["lastFailure"] = Validate.Format(failure);
            var failed = lastFailure is { } f && (lastSuccess is not { } s || f > s);
            if (lastNotification is not null) notification["status"] = failed ? "failed" : "ok";
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

    /// <summary>An endpoint the outbound policy refuses without a DNS look-up is refused at once (as for entity subscriptions).</summary>
    public static void CheckEndpoint(RegistrationSubscription subscription, OutboundPolicy policy)
    {
        var uri = subscription.Subscription.Notification.Endpoint.Uri;
        if (policy.Precheck(uri) is { } reason)
            throw NgsiException.BadRequestData($"Invalid subscription: the broker's outbound policy does not permit the endpoint '{uri}': {reason}");
    }

    /// <summary>A jsonldContext must be had now (504 LdContextNotAvailable otherwise), not at the first notification.</summary>
    public static async Task CheckJsonldContextAsync(RegistrationSubscription subscription, ContextProcessor processor, CancellationToken cancellationToken)
    {
        if (subscription.Subscription.Body["jsonldContext"] is JsonValue v && v.TryGetValue<string>(out var url))
            await processor.ProcessAsync(JsonValue.Create(url), cancellationToken);
    }
}
