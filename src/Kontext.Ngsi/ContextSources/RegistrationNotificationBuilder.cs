using System.Text.Json.Nodes;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Notifications;

namespace Kontext.Ngsi.ContextSources;

/// <summary>
/// Renders a CSourceNotification (clause 5.3.2): id, type ContextSourceNotification (Table 5.3.2-1), subscriptionId, notifiedAt, the registrations
/// compacted with the subscription's @context and reduced to the RegistrationInfos the subscription selects (clause 5.11.7),
/// and the triggerReason. Headers follow entity notifications: the endpoint's
/// receiverInfo, the @context Link (or the @context in the body for application/ld+json) and the tenant.
/// </summary>
public static class RegistrationNotificationBuilder
{
    public const string NewlyMatching = "newlyMatching";
    public const string Updated = "updated";
    public const string NoLongerMatching = "noLongerMatching";

    public static NotificationRequest Build(RegistrationSubscription subscription, NotificationContext context, IReadOnlyList<Registration> registrations,
        string triggerReason, DateTimeOffset now, string? tenant)
    {
        var endpoint = subscription.Subscription.Notification.Endpoint;
        var ldJson = endpoint.Accept == "application/ld+json";
        var body = new JsonObject
        {
            ["id"] = "urn:ngsi-ld:Notification:" + Guid.NewGuid().ToString("N"),
            ["type"] = "ContextSourceNotification",
            ["subscriptionId"] = subscription.Id,
            ["notifiedAt"] = Validate.Format(now),
            ["data"] = new JsonArray(registrations
                .Select(r => (JsonNode)RegistrationRenderer.Render(subscription.Filter.WithMatchingInformation(r), context.Context)).ToArray()),
            ["triggerReason"] = triggerReason,
        };
        if (ldJson) body["@context"] = context.BodyContext.DeepClone();

        var headers = new List<KeyValuePair<string, string>>(endpoint.ReceiverInfo);
        if (!ldJson) headers.Add(new("Link", $"<{context.LinkUrl}>; rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\""));
        if (tenant is not null) headers.Add(new(NotificationBuilder.TenantHeader, tenant));
        return new NotificationRequest(ldJson ? "application/ld+json" : "application/json", headers, body.ToJsonString())
        {
            NotifierInfo = endpoint.NotifierInfo,
        };
    }
}
