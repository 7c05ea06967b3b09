using System.Buffers;
using System.Text;
using System.Text.Json;
using Kontext.Ngsi.Model;

namespace Kontext.Ngsi.Notifications;

/// <summary>
/// Several pending notifications of one subscription sent as one (clause 5.8.6: a notification carries the subscribed
/// entities that changed): their `data` one after the other, in outbox order, under a new notification id. Only
/// notifications that differ in nothing but id, notifiedAt and data merge (same headers, content type, subscription,
/// @context), never a GeoJSON one, and never two that carry the same entity: a receiver sees every state of an entity
/// in a notification of its own, in order.
/// </summary>
public static class NotificationMerge
{
    /// <summary>
    /// The requests from the first on that merge into one, as one request, and how many of them it carries (at least 1:
    /// the first alone is returned as it is). At most <paramref name="maxEntities"/> entities go in one. The requests are
    /// read only as far as they merge (the sequence may render them lazily).
    /// </summary>
    public static (NotificationRequest Request, int Merged) Merge(IEnumerable<NotificationRequest> requests, int maxEntities)
    {
        using var next = requests.GetEnumerator();
        if (!next.MoveNext()) throw new ArgumentException("no notification to merge", nameof(requests));
        var first = next.Current;
        if (!Mergeable(first)) return (first, 1);
        var cap = Math.Max(1, maxEntities);
        var parts = new List<JsonDocument>();
        try
        {
            var ids = new HashSet<string>(StringComparer.Ordinal);
            string? envelope = null;
            var entities = 0;
            do
            {
                var request = parts.Count == 0 ? first : next.Current;
                if (parts.Count > 0 && !SameEnvelope(first, request)) break;
                var document = JsonDocument.Parse(request.Body);
                var root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array
                    || Envelope(root) is not { } shape || (envelope is not null && shape != envelope)
                    || entities + data.GetArrayLength() > cap && parts.Count > 0
                    || !AddIds(data, ids))
                {
                    document.Dispose();
                    break;
                }
                envelope = shape;
                entities += data.GetArrayLength();
                parts.Add(document);
            }
            while (entities < cap && next.MoveNext());
            return parts.Count < 2 ? (first, 1) : (first with { Body = Write(parts) }, parts.Count);
        }
        finally
        {
            foreach (var part in parts) part.Dispose();
        }
    }

    private static bool Mergeable(NotificationRequest request) => request.ContentType != "application/geo+json";

    private static bool SameEnvelope(NotificationRequest a, NotificationRequest b) =>
        a.ContentType == b.ContentType && a.Headers.SequenceEqual(b.Headers) && a.NotifierInfo.SequenceEqual(b.NotifierInfo);

    /// <summary>The members besides id, notifiedAt and data, as text: two notifications with the same merge.</summary>
    private static string? Envelope(JsonElement root)
    {
        var text = new StringBuilder();
        foreach (var member in root.EnumerateObject())
        {
            if (member.NameEquals("id") || member.NameEquals("notifiedAt") || member.NameEquals("data")) continue;
            text.Append(member.Name).Append('=').Append(member.Value.GetRawText()).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>Adds the entities' ids; false when one is already there or an entity has none.</summary>
    private static bool AddIds(JsonElement data, HashSet<string> ids)
    {
        var added = new List<string>();
        foreach (var entity in data.EnumerateArray())
        {
            if (entity.ValueKind != JsonValueKind.Object || !entity.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String
                || !ids.Add(id.GetString()!))
            {
                foreach (var undo in added) ids.Remove(undo);
                return false;
            }
            added.Add(id.GetString()!);
        }
        return true;
    }

    private static string Write(List<JsonDocument> parts)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            var first = parts[0].RootElement;
            writer.WriteStartObject();
            foreach (var member in first.EnumerateObject())
            {
                if (member.NameEquals("id")) writer.WriteString("id", "urn:ngsi-ld:Notification:" + Guid.NewGuid().ToString("N"));
                else if (member.NameEquals("notifiedAt")) writer.WriteString("notifiedAt", Latest(parts));
                else if (member.NameEquals("data"))
                {
                    writer.WriteStartArray("data");
                    foreach (var part in parts)
                        foreach (var entity in part.RootElement.GetProperty("data").EnumerateArray()) entity.WriteTo(writer);
                    writer.WriteEndArray();
                }
                else member.WriteTo(writer);
            }
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The latest notifiedAt of the parts (ISO 8601 UTC of one format: text order is time order).</summary>
    private static string Latest(List<JsonDocument> parts) =>
        parts.Select(p => p.RootElement.TryGetProperty("notifiedAt", out var at) && at.ValueKind == JsonValueKind.String ? at.GetString()! : "")
            .Max(StringComparer.Ordinal) ?? Validate.Format(DateTimeOffset.UtcNow);
}
