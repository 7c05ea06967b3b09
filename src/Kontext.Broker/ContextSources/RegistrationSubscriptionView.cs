using System.Text.Json.Nodes;
using Kontext.Broker.Outbound;
using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.ContextSources;

/// <summary>
/// A registration subscription as shown (clauses 5.11.4, 5.11.5): the body as written with the broker's read-only members
/// (isActive, status, the delivery counters), and the checks a written one must pass. The same shape as entity
/// subscriptions (Subscriptions/SubscriptionRoutes), kept apart so neither side's changes reach the other.
/// </summary>
internal static class RegistrationSubscriptionView
{
    public static JsonObject Render(RegistrationSubscription subscription, StoredSubscription stored, string? failureReason, bool sysAttrs, JsonNode? bodyContext)
    {
        var now = DateTimeOffset.UtcNow;
        var parsed = subscription.Subscription;
        var output = new JsonObject { ["id"] = parsed.Id, ["type"] = "Subscription" };
        foreach (var (member, value) in parsed.Body)
            if (member is not ("id" or "type")) output[member] = value?.DeepClone();
        output["isActive"] = parsed.IsActive;
        output["status"] = parsed.Status(now);
        var status = stored.Status;
        if (output["notification"] is JsonObject notification)
        {
            notification["timesSent"] = status.TimesSent;
            notification["timesFailed"] = status.TimesFailed;
            if (status.LastNotification is { } last) notification["lastNotification"] = Validate.Format(last);
            if (status.LastSuccess is { } success) notification["lastSuccess"] = Validate.Format(success);
            if (status.LastFailure is { } failure) notification["lastFailure"] = Validate.Format(failure);
            var failed = status.LastFailure is { } f && (status.LastSuccess is not { } s || f > s);
            if (status.LastNotification is not null) notification["status"] = failed ? "failed" : "ok";
            if (failed && failureReason is not null) notification["lastFailureReason"] = failureReason;
        }
        if (sysAttrs)
        {
            output["createdAt"] = Validate.Format(stored.CreatedAt);
            output["modifiedAt"] = Validate.Format(stored.ModifiedAt);
        }
        if (bodyContext is not null) output["@context"] = bodyContext.DeepClone();
        return output;
    }

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
