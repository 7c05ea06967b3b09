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
        "datasetId", "splitEntities", "localOnly",
    };

    /// <summary>NotificationParams members the broker maintains (clause 5.2.14): ignored when a client sends them.</summary>
    private static readonly string[] NotificationStatusMembers = ["status", "timesSent", "timesFailed", "lastNotification", "lastFailure", "lastSuccess"];

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
        // Read-only members (status, createdAt, modifiedAt) are ignored on input (Table 5.2.12-2), and so are members the
        // Subscription data type does not have, as JSON-LD drops terms nobody defined: neither is stored nor shown.
        foreach (var member in body.Select(p => p.Key).Where(m => !Known.Contains(m)).ToList()) body.Remove(member);
        if (body["notification"] is JsonObject given)
            foreach (var member in NotificationStatusMembers) given.Remove(member);
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

        var filter = EntityQuery.Parse(QueryParameters(body), context) with { Selectors = selectors };

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
        var datasetIds = DatasetIds(body);
        if (Text(body, "csf") is { } csf)
        {
            // A filter that is no query at all is the client's error (400) before it is a feature this broker lacks (422).
            try { QLanguage.Parse(csf, context); }
            catch (NgsiException e) { throw Bad($"'csf' is not a valid query (clause 4.9): {e.Error.Detail}"); }
            throw new NgsiException(NgsiError.OperationNotSupported("'csf' (context source filters) is not supported by this broker"));
        }
        if (body["temporalQ"] is not null) throw new NgsiException(NgsiError.OperationNotSupported("'temporalQ' in subscriptions is not supported by this broker"));

        var notification = Notification(body["notification"], context);
        return new Subscription(id, filter, watched, triggers, timeInterval, throttling, expiresAt, isActive, Text(body, "lang"), notification, body, null)
        {
            DatasetIds = datasetIds,
        };
    }

    /// <summary>
    /// q, geoQ and scopeQ of the body. A q in a JSON body is percent-decoded as it would be in a URL: clients build it
    /// like the query parameter (the conformance suite writes "Eiffel%20Tower"), and '%' followed by two hex digits is
    /// no sequence a q-language literal needs (a literal per cent sign stays as it is).
    /// </summary>
    private static EntityQueryParameters QueryParameters(JsonObject body)
    {
        var parameters = EntityQueryParameters.FromBody(body);
        return parameters.Q is { } q && q.Contains('%') ? parameters with { Q = Uri.UnescapeDataString(q) } : parameters;
    }

    /// <summary>The datasetId member (clause 4.5.5): a non-empty array of datasetIds, "@none" naming the default instance.</summary>
    private static HashSet<string>? DatasetIds(JsonObject body)
    {
        var node = body["datasetId"];
        if (node is null) return null;
        var items = node is JsonArray list ? list.ToList() : [node];
        if (items.Count == 0 || items.Any(i => i is not JsonValue v || !v.TryGetValue<string>(out _)))
            throw Bad("'datasetId' must be a non-empty array of datasetIds (URIs, or \"@none\" for the default instance)");
        var ids = items.Select(i => i!.GetValue<string>()).ToHashSet(StringComparer.Ordinal);
        if (ids.FirstOrDefault(i => i != DatasetSelection.DefaultInstance && !Validate.IsUri(i)) is { } bad) throw Bad($"the datasetId '{bad}' is not a URI");
        return ids;
    }

    /// <summary>
    /// Applies a PATCH fragment (clause 5.8.2): each member of the fragment replaces the member of the same name, a null
    /// removes it. "notification" too is replaced as a whole: a fragment's member must itself be a valid value of its
    /// data type (a NotificationParams names its endpoint), which the parse of the result checks.
    /// </summary>
    public static JsonObject Merge(JsonObject stored, JsonObject fragment)
    {
        var merged = (JsonObject)stored.DeepClone();
        foreach (var (member, value) in fragment)
        {
            if (member is "@context") continue;
            if (member == "id" && value is JsonValue v && v.TryGetValue<string>(out var id) && id != Text(stored, "id"))
                throw Bad("the id of a subscription cannot change");
            if (value is null || Attr.IsNullMarker(value)) merged.Remove(member);
            else merged[member] = value.DeepClone();
        }
        return merged;
    }

    private static NotificationParameters Notification(JsonNode? node, JsonLdContext context)
    {
        if (node is not JsonObject notification) throw Bad("'notification' is required and must be an object");
        var attributes = Names(notification, "attributes", context);
        var pick = Strings(notification, "pick");
        var omit = Strings(notification, "omit");
        // Table 5.2.14-1: attributes, pick and omit select the same thing; pick and omit cannot name one member twice.
        if (attributes is not null && pick is not null) throw Bad("notification 'pick' and 'attributes' cannot be combined");
        if (attributes is not null && omit is not null) throw Bad("notification 'omit' and 'attributes' cannot be combined");
        if (pick is not null && omit is not null && pick.Intersect(omit).FirstOrDefault() is { } both)
            throw Bad($"'{both}' cannot be both picked and omitted");
        var format = Text(notification, "format") switch
        {
            null or "normalized" => RenderFormat.Normalized,
            "keyValues" or "simplified" => RenderFormat.KeyValues,
            "concise" => RenderFormat.Concise,
            var other => throw Bad($"notification.format '{other}' is not one of normalized, keyValues, simplified, concise"),
        };
        var showChanges = Flag(notification, "showChanges");
        if (showChanges && format == RenderFormat.KeyValues) throw Bad("'showChanges' cannot be true when the format is keyValues (simplified)");
        if (notification["endpoint"] is not JsonObject endpoint) throw Bad("'notification.endpoint' is required");
        var uriText = Text(endpoint, "uri") ?? throw Bad("'notification.endpoint.uri' is required");
        if (!Uri.TryCreate(uriText, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https" or "mqtt" or "mqtts"))
            throw Bad($"'notification.endpoint.uri' '{uriText}' must be an absolute http, https, mqtt or mqtts URI");
        var accept = Text(endpoint, "accept") ?? "application/json";
        if (accept is not ("application/json" or "application/ld+json" or "application/geo+json"))
            throw Bad($"'notification.endpoint.accept' '{accept}' is not one of application/json, application/ld+json, application/geo+json");
        var notifierInfo = KeyValues(endpoint, "notifierInfo");
        if (uri.Scheme is "mqtt" or "mqtts") ValidateMqtt(uri, notifierInfo);
        var fields = attributes is not null ? new Projection(Only: attributes) : NotifiedFields(pick, omit, context);
        return new NotificationParameters(attributes, format, Flag(notification, "sysAttrs"), showChanges,
            new NotificationEndpoint(uri, accept, KeyValues(endpoint, "receiverInfo"), notifierInfo))
        {
            Fields = fields,
            Join = JoinOf(notification),
            JoinLevel = JoinLevelOf(notification),
        };
    }

    private static JoinMode? JoinOf(JsonObject notification) => Text(notification, "join") switch
    {
        null or "@none" => null,
        "inline" => JoinMode.Inline,
        "flat" => JoinMode.Flat,
        var other => throw Bad($"notification.join '{other}' is not one of inline, flat, @none"),
    };

    private static int JoinLevelOf(JsonObject notification)
    {
        if (notification["joinLevel"] is null) return 1;
        if (notification["joinLevel"] is JsonValue v && v.TryGetValue<int>(out var level) && level is >= 1 and <= LinkedEntities.MaxLevel) return level;
        throw Bad($"notification.joinLevel must be an integer from 1 to {LinkedEntities.MaxLevel}");
    }

    /// <summary>
    /// pick and omit of a notification: unlike a query (clause 4.21) a subscription may carry both, on different members
    /// (Table 5.2.14-1), so each is read on its own and the two projections are joined.
    /// </summary>
    private static Projection NotifiedFields(List<string>? pick, List<string>? omit, JsonLdContext context)
    {
        string Expand(string name) => EntityParser.ExpandAttributeName(name, context);
        var picked = pick is null ? Projection.All : Projection.Select([], MemberSelection.Parse(pick, "pick"), null, Expand);
        if (omit is null) return picked;
        var omitted = Projection.Select([], null, MemberSelection.Parse(omit, "omit"), Expand);
        return picked with
        {
            Id = picked.Id && omitted.Id,
            Type = picked.Type && omitted.Type,
            Scope = picked.Scope && omitted.Scope,
            Omitted = omitted.Omitted,
        };
    }

    /// <summary>A member that is a non-empty array of strings (pick, omit), or null when absent.</summary>
    private static List<string>? Strings(JsonObject body, string member)
    {
        if (body[member] is null) return null;
        if (body[member] is not JsonArray list || list.Count == 0 || list.Any(e => e is not JsonValue v || v.GetValueKind() != JsonValueKind.String))
            throw Bad($"'{member}' must be a non-empty array of entity member names");
        return list.Select(e => e!.GetValue<string>()).ToList();
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
