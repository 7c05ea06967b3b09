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

    /// <summary>
    /// The notification of these changes. <paramref name="joined"/> holds the linked entities when the subscription asks
    /// for a join (clause 4.5.23): inline they replace their Relationships' objects, flat they follow the entities.
    /// </summary>
    public static NotificationRequest Build(Subscription subscription, NotificationContext context, IReadOnlyList<EntityChange> changes, DateTimeOffset now, string? tenant,
        LinkedEntities? joined = null)
    {
        var notification = subscription.Notification;
        var options = new RenderOptions(notification.Format, notification.SysAttrs, LanguageSelector.Parse(subscription.Lang), notification.Fields) { Joined = joined };
        var flat = joined is { Mode: JoinMode.Flat } ? joined.Flat : [];
        var renderer = new EntityRenderer(context.Context, options);
        var accept = notification.Endpoint.Accept;
        // A JSON-LD notification is self-contained: each entity names its @context, and so does the notification.
        var entityContext = accept == "application/ld+json" ? context.BodyContext : null;

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
                var entities = changes.Where(c => c.After is not null).Select(c => (NotifiedEntity.AfterChange(subscription, c, now), notification.Fields));
                new GeoJsonRenderer(renderer, GeoJsonRenderer.DefaultGeometryProperty).WriteFeatureCollection(writer, [.. entities, .. flat]);
            }
            else
            {
                writer.WriteStartArray();
                foreach (var change in changes)
                {
                    if (change.After is null) WriteDeleted(writer, renderer, NotifiedEntity.Deleted(subscription, change, now), change.At ?? now, entityContext);
                    else renderer.WriteEntity(writer, NotifiedEntity.AfterChange(subscription, change, now), entityContext);
                }
                foreach (var (linked, projection) in flat) renderer.WriteEntity(writer, linked, projection, entityContext);
                writer.WriteEndArray();
            }
            if (entityContext is not null)
            {
                writer.WritePropertyName("@context");
                entityContext.WriteTo(writer);
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

    /// <summary>A deleted entity: what <see cref="NotifiedEntity.Deleted"/> keeps of it, and when it was deleted.</summary>
    private static void WriteDeleted(Utf8JsonWriter writer, EntityRenderer renderer, Entity deleted, DateTimeOffset at, JsonNode? entityContext)
    {
        writer.WriteStartObject();
        renderer.WriteMembers(writer, deleted);
        writer.WriteString("deletedAt", Validate.Format(at));
        if (entityContext is not null)
        {
            writer.WritePropertyName("@context");
            entityContext.WriteTo(writer);
        }
        writer.WriteEndObject();
    }
}
