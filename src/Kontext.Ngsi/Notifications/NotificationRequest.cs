using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Formats;

namespace Kontext.Ngsi.Notifications;

/// <summary>
/// A notification as it is kept in the outbox: rendered once at match time (the entity as it was then), delivered
/// later, perhaps after a restart. Transport-neutral: HTTP sends headers and body, MQTT wraps them in its envelope.
/// </summary>
public sealed record NotificationRequest(string ContentType, IReadOnlyList<KeyValuePair<string, string>> Headers, string Body)
{
    /// <summary>The endpoint's notifierInfo (e.g. MQTT-Version, MQTT-QoS): options for the transport, never sent to the receiver.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> NotifierInfo { get; init; } = [];

    public string Serialize()
    {
        var node = new JsonObject { ["contentType"] = ContentType, ["headers"] = Pairs(Headers), ["body"] = Body };
        if (NotifierInfo.Count > 0) node["notifierInfo"] = Pairs(NotifierInfo);
        return node.ToJsonString();
    }

    public static NotificationRequest Deserialize(string text)
    {
        var node = StoredJson.Parse(text)!.AsObject();
        return new NotificationRequest(node["contentType"]!.GetValue<string>(), Pairs(node["headers"]!.AsArray()), node["body"]!.GetValue<string>())
        {
            NotifierInfo = node["notifierInfo"] is JsonArray notifierInfo ? Pairs(notifierInfo) : [],
        };
    }

    private static JsonArray Pairs(IEnumerable<KeyValuePair<string, string>> pairs) =>
        new(pairs.Select(h => (JsonNode)new JsonObject { ["key"] = h.Key, ["value"] = h.Value }).ToArray());

    private static List<KeyValuePair<string, string>> Pairs(JsonArray pairs) =>
        pairs.Select(h => new KeyValuePair<string, string>(h!["key"]!.GetValue<string>(), h["value"]!.GetValue<string>())).ToList();

    /// <summary>The notification's JSON body as a node (MQTT puts it inside its envelope).</summary>
    public JsonNode? BodyNode() => StoredJson.Parse(Body);
}
