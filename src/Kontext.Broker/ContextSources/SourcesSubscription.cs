using System.Text.Json.Nodes;
using Kontext.Broker.Subscriptions;
using Kontext.Ngsi.Formats;
using Kontext.Ngsi.Storage;
using Kontext.Ngsi.Subscriptions;

namespace Kontext.Broker.ContextSources;

/// <summary>
/// One remote leg of a distributed subscription: the copy held by the source of one registration (its id there and what
/// was last sent), the registration as it was when the leg was made (to reach the source after the registration is gone),
/// and how the last call went ("ok", "failed" with the reason, or "pending" while it is under way).
/// </summary>
internal sealed record RemoteLeg(string RegistrationId, string Registration, string RemoteId, JsonObject Sent, string State, string? Detail = null)
{
    public JsonObject ToJson() => new()
    {
        ["registrationId"] = RegistrationId, ["registration"] = Registration, ["subscriptionId"] = RemoteId,
        ["sent"] = Sent.DeepClone(), ["state"] = State, ["detail"] = Detail,
    };

    public static RemoteLeg From(JsonObject node) => new(
        node["registrationId"]!.GetValue<string>(), node["registration"]!.GetValue<string>(), node["subscriptionId"]!.GetValue<string>(),
        node["sent"]!.AsObject(), node["state"]!.GetValue<string>(), node["detail"]?.GetValue<string>());
}

/// <summary>
/// The Context Source Registration Subscription that clause 5.8.1.4 has a broker keep for each local subscription it
/// distributes: stored with the tenant's registration subscriptions (so both stores keep it, and GET /csourceSubscriptions
/// shows it), watching the local subscription's entities, and holding the link to each remote leg. It is acted on
/// inside the broker (<see cref="SubscriptionForwarding"/>), never notified over the network.
/// </summary>
internal sealed record SourcesSubscription(string LocalId, string NotifyUri, string? Via, IReadOnlyList<RemoteLeg> Legs)
{
    private const string Member = "kontextForwarding";

    /// <summary>The id of the registration subscription kept for the local subscription <paramref name="localId"/>.</summary>
    public static string IdFor(string localId) => "urn:ngsi-ld:Subscription:sources-of:" + localId;

    /// <summary>
    /// The stored document: the registration subscription as shown (the local subscription's entities or watched
    /// attributes, in its terms and @context) and, beside it, the forwarding state.
    /// </summary>
    public string Document(Subscription local, JsonNode? context, string contextUrl)
    {
        var body = new JsonObject
        {
            ["id"] = IdFor(LocalId),
            ["type"] = "Subscription",
            ["description"] = $"Kept by the broker: subscription {LocalId} forwarded to the matching context sources (clause 5.8.1.4)",
        };
        if (local.Body["entities"] is { } entities) body["entities"] = entities.DeepClone();
        if (local.Body["watchedAttributes"] is { } watched) body["watchedAttributes"] = watched.DeepClone();
        body["notification"] = new JsonObject { ["endpoint"] = new JsonObject { ["uri"] = NotifyUri } };
        var document = JsonNode.Parse(SubscriptionDocument.Create(body, context, contextUrl))!.AsObject();
        document[Member] = new JsonObject
        {
            ["subscriptionId"] = LocalId, ["notifyUri"] = NotifyUri, ["via"] = Via,
            ["legs"] = new JsonArray(Legs.Select(l => (JsonNode)l.ToJson()).ToArray()),
        };
        return document.ToJsonString();
    }

    /// <summary>The same document with other legs.</summary>
    public static string WithLegs(string document, IReadOnlyList<RemoteLeg> legs)
    {
        var node = JsonNode.Parse(document)!.AsObject();
        node[Member]!["legs"] = new JsonArray(legs.Select(l => (JsonNode)l.ToJson()).ToArray());
        return node.ToJsonString();
    }

    /// <summary>The forwarding state of a stored registration subscription; null for one a client made.</summary>
    public static SourcesSubscription? Read(StoredSubscription stored)
    {
        if (!stored.Document.Contains(Member, StringComparison.Ordinal)) return null;
        if (StoredJson.Parse(stored.Document) is not JsonObject document || document[Member] is not JsonObject state) return null;
        return new SourcesSubscription(state["subscriptionId"]!.GetValue<string>(), state["notifyUri"]!.GetValue<string>(), state["via"]?.GetValue<string>(),
            (state["legs"] as JsonArray ?? []).OfType<JsonObject>().Select(RemoteLeg.From).ToList());
    }

    public static bool IsKept(StoredSubscription stored) => Read(stored) is not null;
}
