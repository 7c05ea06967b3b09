using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kontext.Ngsi.Notifications;

/// <summary>
/// A notification as it is kept in the outbox: rendered once at match time (the entity as it was then), delivered
/// later, perhaps after a restart. Transport-neutral: HTTP sends headers and body, MQTT wraps them in its envelope.
/// </summary>
public sealed record NotificationRequest(string ContentType, IReadOnlyList<KeyValuePair<string, string>> Headers, string Body)
{
    public string Serialize()
    {
        var headers = new JsonArray(Headers.Select(h => (JsonNode)new JsonObject { ["key"] = h.Key, ["value"] = h.Value }).ToArray());
        return new JsonObject { ["contentType"] = ContentType, ["headers"] = headers, ["body"] = Body }.ToJsonString();
    }

    public static NotificationRequest Deserialize(string text)
    {
        var node = JsonNode.Parse(text)!.AsObject();
        var headers = node["headers"]!.AsArray()
            .Select(h => new KeyValuePair<string, string>(h!["key"]!.GetValue<string>(), h["value"]!.GetValue<string>())).ToList();
        return new NotificationRequest(node["contentType"]!.GetValue<string>(), headers, node["body"]!.GetValue<string>());
    }

    /// <summary>The notification's JSON body as a node (MQTT puts it inside its envelope).</summary>
    public JsonNode? BodyNode() => JsonNode.Parse(Body, documentOptions: new JsonDocumentOptions { MaxDepth = 128 });
}
