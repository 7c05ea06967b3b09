using System.Text.Json.Nodes;
using Kontext.Ngsi.Formats;
using Kontext.Ngsi.Query;

namespace Kontext.Ngsi.Subscriptions;

/// <summary>
/// A context subscription (clause 5.2.12) in expanded form. <see cref="Body"/> keeps the subscription as the client
/// wrote it (compact terms, without @context) and <see cref="Context"/> the @context it was written with, so it
/// can be re-read after a restart and shown back as given.
/// </summary>
public sealed record Subscription(
    string Id,
    EntityQuery Filter,
    IReadOnlySet<string>? WatchedAttributes,
    IReadOnlySet<NotificationTrigger> Triggers,
    double? TimeInterval,
    double? Throttling,
    DateTimeOffset? ExpiresAt,
    bool IsActive,
    string? Lang,
    NotificationParameters Notification,
    JsonObject Body,
    JsonNode? Context)
{
    /// <summary>The datasetIds of the attribute instances the subscription looks at ("@none": the default instance); null: all.</summary>
    public IReadOnlySet<string>? DatasetIds { get; init; }

    public bool IsExpired(DateTimeOffset now) => ExpiresAt is { } expires && expires <= now;

    /// <summary>The status the API reports: active, paused (isActive false) or expired.</summary>
    public string Status(DateTimeOffset now) => IsExpired(now) ? "expired" : IsActive ? "active" : "paused";
}

public enum NotificationTrigger { EntityCreated, EntityUpdated, EntityDeleted, AttributeCreated, AttributeUpdated, AttributeDeleted }

/// <summary>The "notification" member: what to send and where. <see cref="Fields"/> combines attributes, pick and omit.</summary>
public sealed record NotificationParameters(
    IReadOnlySet<string>? Attributes,
    RenderFormat Format,
    bool SysAttrs,
    bool ShowChanges,
    NotificationEndpoint Endpoint)
{
    public Projection Fields { get; init; } = Attributes is null ? Projection.All : new Projection(Only: Attributes);

    /// <summary>Linked entities in the notification (join, joinLevel of Table 5.2.14-1): inline, flat, or none.</summary>
    public JoinMode? Join { get; init; }

    public int JoinLevel { get; init; } = 1;
}

/// <summary>Where notifications go: an http(s) or mqtt(s) URI, the media type, extra headers (receiverInfo) and MQTT options (notifierInfo).</summary>
public sealed record NotificationEndpoint(
    Uri Uri,
    string Accept,
    IReadOnlyList<KeyValuePair<string, string>> ReceiverInfo,
    IReadOnlyList<KeyValuePair<string, string>> NotifierInfo)
{
    public bool IsMqtt => Uri.Scheme is "mqtt" or "mqtts";

    // Host would aim the request at another virtual host than the endpoint names; the hop-by-hop headers (RFC 9110
    // 7.6.1, and the proxy ones) and Content-Length belong to the connection and the framing, which the broker owns.
    private static readonly HashSet<string> ForbiddenHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authorization", "Proxy-Authenticate",
        "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Content-Length",
    };

    /// <summary>True for a header that receiverInfo cannot set.</summary>
    public static bool IsForbiddenHeader(string name) => ForbiddenHeaders.Contains(name.Trim());
}

/// <summary>Delivery counters kept by the broker (clause 5.2.12 NotificationParams, read-only members).</summary>
public sealed record SubscriptionStatus(
    long TimesSent = 0,
    long TimesFailed = 0,
    DateTimeOffset? LastNotification = null,
    DateTimeOffset? LastSuccess = null,
    DateTimeOffset? LastFailure = null);
