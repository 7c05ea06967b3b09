using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Formats;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;

namespace Kontext.Ngsi.Subscriptions;

/// <summary>Reads and validates a subscription (clauses 5.2.12, 5.8.1): every problem is a 400 BadRequestData with the reason.</summary>
public static class SubscriptionParser
{
    private static readonly HashSet<string> Known = new(StringComparer.Ordinal)
    {
        "id", "type", "subscriptionName", "description", "entities", "watchedAttributes", "notificationTrigger", "timeInterval",
        "q", "geoQ", "csf", "isActive", "notification", "expiresAt", "throttling", "temporalQ", "scopeQ", "lang", "jsonldContext",
        "status", "createdAt", "modifiedAt", "@context",
    };

    private static readonly Dictionary<string, NotificationTrigger> Triggers = new(StringComparer.Ordinal)
    {
        ["entityCreated"] = NotificationTrigger.EntityCreated,
        ["entityUpdated"] = NotificationTrigger.EntityUpdated,
        ["entityDeleted"] = NotificationTrigger.EntityDeleted,
        ["attributeCreated"] = NotificationTrigger.AttributeCreated,
        ["attributeUpdated"] = NotificationTrigger.AttributeUpdated,
        ["attributeDeleted"] = NotificationTrigger.AttributeDeleted,
    };

    public static string TriggerName(NotificationTrigger trigger) => Triggers.First(t => t.Value == trigger).Key;

    /// <summary>Parses a whole subscription. The body is kept (without @context) for storage and display.</summary>
    public static Subscription Parse(JsonObject input, JsonLdContext context, DateTimeOffset now, bool checkExpiry = true)
    {
        var body = (JsonObject)input.DeepClone();
        body.Remove("@context");
        foreach (var member in body.Select(p => p.Key).ToList())
        {
            if (!Known.Contains(member)) throw Bad($"unknown member '{member}'");
            if (member is "status" or "createdAt" or "modifiedAt") body.Remove(member); // read-only: ignored on input
        }
        if (Text(body, "type") != "Subscription") throw Bad("'type' must be \"Subscription\"");

        var id = Text(body, "id") ?? "urn:ngsi-ld:Subscription:" + Guid.NewGuid().ToString("N");
        if (!Validate.IsUri(id)) throw Bad($"the id '{id}' is not a URI");
        body["id"] = id;

        var selectors = EntitySelector.ParseList(body["entities"], context);
        var watched = Names(body, "watchedAttributes", context);
        var timeInterval = PositiveNumber(body, "timeInterval");
        var throttling = PositiveNumber(body, "throttling");
        if (selectors is null && watched is null) throw Bad("a subscription needs 'entities' or 'watchedAttributes'");
        if (timeInterval is not null && watched is not null) throw Bad("'timeInterval' and 'watchedAttributes' cannot be combined");
        if (timeInterval is not null && throttling is not null) throw Bad("'timeInterval' and 'throttling' cannot be combined");
        if (timeInterval is not null && selectors is null) throw Bad("a periodic subscription ('timeInterval') needs 'entities'");

        var filter = EntityQuery.Parse(EntityQueryParameters.FromBody(body), context) with { Selectors = selectors };

        var triggers = new HashSet<NotificationTrigger>();
        if (body["notificationTrigger"] is { } t)
        {
            if (t is not JsonArray tl || tl.Count == 0) throw Bad("'notificationTrigger' must be a non-empty array");
            foreach (var item in tl)
            {
                var name = item is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
                if (name is null || !Triggers.TryGetValue(name, out var trigger)) throw Bad($"unknown notificationTrigger {item?.ToJsonString()}");
                triggers.Add(trigger);
            }
        }
        else
        {
            // Clause 5.2.12: the default triggers.
            triggers.Add(NotificationTrigger.AttributeCreated);
            triggers.Add(NotificationTrigger.AttributeUpdated);
        }

        DateTimeOffset? expiresAt = null;
        if (Text(body, "expiresAt") is { } expiresText)
        {
            if (!Validate.TryParseDateTime(expiresText, out var expires)) throw Bad($"'expiresAt' '{expiresText}' is not a date-time");
            if (checkExpiry && expires <= now) throw Bad("'expiresAt' is in the past");
            expiresAt = expires;
        }
        var isActive = body["isActive"] switch
        {
            null => true,
            JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
            _ => throw Bad("'isActive' must be true or false"),
        };
        if (Text(body, "jsonldContext") is { } jsonld && !Uri.TryCreate(jsonld, UriKind.Absolute, out _)) throw Bad("'jsonldContext' must be a URL");
        if (body["csf"] is not null) throw new NgsiException(NgsiError.OperationNotSupported("'csf' (context source filters) is not supported by this broker"));
        if (body["temporalQ"] is not null) throw new NgsiException(NgsiError.OperationNotSupported("'temporalQ' in subscriptions is not supported by this broker"));

        var notification = Notification(body["notification"], context);
        return new Subscription(id, filter, watched, triggers, timeInterval, throttling, expiresAt, isActive, Text(body, "lang"), notification, body, null);
    }

    /// <summary>Applies a PATCH fragment (clause 5.8.2): top-level members replace, "notification" members merge one level deep.</summary>
    public static JsonObject Merge(JsonObject stored, JsonObject fragment)
    {
        var merged = (JsonObject)stored.DeepClone();
        foreach (var (member, value) in fragment)
        {
            if (member is "@context") continue;
            if (member == "id" && value is JsonValue v && v.TryGetValue<string>(out var id) && id != Text(stored, "id"))
                throw Bad("the id of a subscription cannot change");
            if (member == "notification" && value is JsonObject patch && merged["notification"] is JsonObject current)
            {
                foreach (var (key, inner) in patch)
                {
                    if (key == "endpoint" && inner is JsonObject endpointPatch && current["endpoint"] is JsonObject endpoint)
                        foreach (var (ek, ev) in endpointPatch) endpoint[ek] = ev?.DeepClone();
                    else current[key] = inner?.DeepClone();
                }
                continue;
            }
            if (value is null || Attr.IsNullMarker(value)) merged.Remove(member);
            else merged[member] = value.DeepClone();
        }
        return merged;
    }

    private static NotificationParameters Notification(JsonNode? node, JsonLdContext context)
    {
        if (node is not JsonObject notification) throw Bad("'notification' is required and must be an object");
        var attributes = Names(notification, "attributes", context);
        var format = Text(notification, "format") switch
        {
            null or "normalized" => RenderFormat.Normalized,
            "keyValues" or "simplified" => RenderFormat.KeyValues,
            "concise" => RenderFormat.Concise,
            var other => throw Bad($"notification.format '{other}' is not one of normalized, keyValues, simplified, concise"),
        };
        if (notification["endpoint"] is not JsonObject endpoint) throw Bad("'notification.endpoint' is required");
        var uriText = Text(endpoint, "uri") ?? throw Bad("'notification.endpoint.uri' is required");
        if (!Uri.TryCreate(uriText, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https" or "mqtt" or "mqtts"))
            throw Bad($"'notification.endpoint.uri' '{uriText}' must be an absolute http, https, mqtt or mqtts URI");
        var accept = Text(endpoint, "accept") ?? "application/json";
        if (accept is not ("application/json" or "application/ld+json" or "application/geo+json"))
            throw Bad($"'notification.endpoint.accept' '{accept}' is not one of application/json, application/ld+json, application/geo+json");
        var notifierInfo = KeyValues(endpoint, "notifierInfo");
        if (uri.Scheme is "mqtt" or "mqtts") ValidateMqtt(uri, notifierInfo);
        return new NotificationParameters(attributes, format, Flag(notification, "sysAttrs"), Flag(notification, "showChanges"),
            new NotificationEndpoint(uri, accept, KeyValues(endpoint, "receiverInfo"), notifierInfo));
    }

    /// <summary>MQTT binding (clause 7.2): the URI path is the topic to publish on; notifierInfo MQTT-Version and MQTT-QoS.</summary>
    private static void ValidateMqtt(Uri uri, IReadOnlyList<KeyValuePair<string, string>> notifierInfo)
    {
        if (uri.OriginalString.Contains('#')) throw Bad($"the MQTT endpoint '{uri.OriginalString}' cannot name a wildcard topic ('#')");
        if (uri.Query.Length > 0) throw Bad($"the MQTT endpoint '{uri}' cannot have a query (percent-encode a '?' in the topic)");
        var topic = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (topic.Length == 0) throw Bad($"the MQTT endpoint '{uri}' names no topic (mqtt[s]://[user:pass@]host[:port]/topic)");
        if (topic.IndexOfAny(['+', '#', '\0']) >= 0) throw Bad($"the MQTT topic '{topic}' cannot contain the wildcards '+' or '#'");
        foreach (var (key, value) in notifierInfo)
        {
            if (key == "MQTT-Version" && value is not ("mqtt3.1.1" or "mqtt5.0"))
                throw Bad($"notifierInfo MQTT-Version '{value}' is not one of mqtt3.1.1, mqtt5.0");
            if (key == "MQTT-QoS" && value is not ("0" or "1" or "2"))
                throw Bad($"notifierInfo MQTT-QoS '{value}' is not one of 0, 1, 2");
        }
    }

    private static IReadOnlyList<KeyValuePair<string, string>> KeyValues(JsonObject endpoint, string member)
    {
        if (endpoint[member] is null) return [];
        if (endpoint[member] is not JsonArray list) throw Bad($"'{member}' must be an array of {{key, value}}");
        var pairs = new List<KeyValuePair<string, string>>();
        foreach (var item in list)
        {
            if (item is not JsonObject o || Text(o, "key") is not { Length: > 0 } key || Text(o, "value") is not { } value)
                throw Bad($"each '{member}' entry needs a string key and value");
            if (member == "receiverInfo" && (key.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c == ':') || value.Any(char.IsControl)))
                throw Bad($"'{key}' cannot be sent as an HTTP header");
            if (member == "receiverInfo" && NotificationEndpoint.IsForbiddenHeader(key))
                throw Bad($"receiverInfo cannot set the '{key}' header (Host and connection-level headers belong to the broker)");
            pairs.Add(new(key, value));
        }
        return pairs;
    }

    private static HashSet<string>? Names(JsonObject body, string member, JsonLdContext context)
    {
        if (body[member] is null) return null;
        if (body[member] is not JsonArray list || list.Count == 0 || list.Any(e => e is not JsonValue v || v.GetValueKind() != JsonValueKind.String))
            throw Bad($"'{member}' must be a non-empty array of attribute names");
        return list.Select(e => EntityParser.ExpandAttributeName(e!.GetValue<string>(), context)).ToHashSet(StringComparer.Ordinal);
    }

    private static double? PositiveNumber(JsonObject body, string member)
    {
        if (body[member] is null) return null;
        if (!JsonNumbers.TryGetDouble(body[member], out var value) || value <= 0 || !double.IsFinite(value))
            throw Bad($"'{member}' must be a positive number of seconds");
        return value;
    }

    private static bool Flag(JsonObject body, string member) => body[member] switch
    {
        null => false,
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
        _ => throw Bad($"'{member}' must be true or false"),
    };

    private static string? Text(JsonObject body, string member) => body[member] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => throw Bad($"'{member}' must be a string"),
    };

    private static NgsiException Bad(string reason) => NgsiException.BadRequestData("Invalid subscription: " + reason);

    public static string FormatSeconds(double seconds) => seconds.ToString(CultureInfo.InvariantCulture);
}
