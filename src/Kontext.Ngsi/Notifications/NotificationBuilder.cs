using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Formats;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Subscriptions;

namespace Kontext.Ngsi.Notifications;

/// <summary>How a subscription's notifications are compacted: its active context and how to name it (URL for a Link header, node for a body).</summary>
public sealed record NotificationContext(JsonLdContext Context, string LinkUrl, JsonNode BodyContext);

/// <summary>Renders the Notification (clause 5.3.1): id, type, subscriptionId, notifiedAt and the entities in the subscription's format.</summary>
public static class NotificationBuilder
{
    public const string TenantHeader = "NGSILD-Tenant";

    public static NotificationRequest Build(Subscription subscription, NotificationContext context, IReadOnlyList<EntityChange> changes, DateTimeOffset now, string? tenant)
    {
        var notification = subscription.Notification;
        var options = new RenderOptions(notification.Format, notification.SysAttrs, LanguageSelector.Parse(subscription.Lang),
            notification.Attributes is null ? null : new Projection(Only: notification.Attributes));
        var renderer = new EntityRenderer(context.Context, options);
        var accept = notification.Endpoint.Accept;

        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteString("id", "urn:ngsi-ld:Notification:" + Guid.NewGuid().ToString("N"));
            writer.WriteString("type", "Notification");
            writer.WriteString("subscriptionId", subscription.Id);
            writer.WriteString("notifiedAt", Validate.Format(now));
            writer.WritePropertyName("data");
            if (accept == "application/geo+json")
            {
                var features = new GeoJsonRenderer(renderer, GeoJsonRenderer.DefaultGeometryProperty);
                writer.WriteStartObject();
                writer.WriteString("type", "FeatureCollection");
                writer.WriteStartArray("features");
                foreach (var change in changes.Where(c => c.After is not null)) features.WriteFeature(writer, Subject(change, notification.ShowChanges));
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            else
            {
                writer.WriteStartArray();
                foreach (var change in changes)
                {
                    if (change.After is null) WriteDeleted(writer, change.Before!, context.Context, now);
                    else renderer.WriteEntity(writer, Subject(change, notification.ShowChanges));
                }
                writer.WriteEndArray();
            }
            if (accept == "application/ld+json")
            {
                writer.WritePropertyName("@context");
                context.BodyContext.WriteTo(writer);
            }
            writer.WriteEndObject();
        }

        var headers = new List<KeyValuePair<string, string>>(notification.Endpoint.ReceiverInfo);
        if (accept != "application/ld+json")
            headers.Add(new("Link", $"<{context.LinkUrl}>; rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\""));
        if (tenant is not null) headers.Add(new(TenantHeader, tenant));
        return new NotificationRequest(accept, headers, Encoding.UTF8.GetString(buffer.WrittenSpan))
        {
            NotifierInfo = notification.Endpoint.NotifierInfo,
        };
    }

    /// <summary>An entity deletion is notified as the entity's id and type with deletedAt.</summary>
    private static void WriteDeleted(Utf8JsonWriter writer, Entity before, JsonLdContext context, DateTimeOffset now)
    {
        writer.WriteStartObject();
        writer.WriteString("id", before.Id);
        if (before.Types.Count == 1) writer.WriteString("type", context.CompactIri(before.Types[0]));
        else
        {
            writer.WriteStartArray("type");
            foreach (var type in before.Types) writer.WriteStringValue(context.CompactIri(type));
            writer.WriteEndArray();
        }
        writer.WriteString("deletedAt", Validate.Format(now));
        writer.WriteEndObject();
    }

    /// <summary>The entity to notify; with showChanges, each updated instance carries its previous payload (previousValue, previousObject, ...).</summary>
    private static Entity Subject(EntityChange change, bool showChanges)
    {
        var after = change.After!;
        if (!showChanges || change.Before is null || change.Updated.Count == 0) return after;
        var subject = after.Clone();
        foreach (var name in change.Updated)
        {
            foreach (var instance in subject.Attributes[name])
            {
                var previous = change.Before.FindInstance(name, Attr.DatasetId(instance));
                if (previous is null) continue;
                var member = Attr.PayloadMember[Attr.Type(previous)];
                if (Attr.Payload(previous) is { } payload && !JsonNode.DeepEquals(payload, Attr.Payload(instance)))
                    instance["previous" + char.ToUpperInvariant(member[0]) + member[1..]] = payload.DeepClone();
            }
        }
        return subject;
    }
}
