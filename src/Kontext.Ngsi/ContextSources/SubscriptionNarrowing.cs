using System.Text.Json.Nodes;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Notifications;
using Kontext.Ngsi.Query;
using Kontext.Ngsi.Subscriptions;

namespace Kontext.Ngsi.ContextSources;

/// <summary>
/// Distributed subscriptions (clause 5.8.1.4): the copy of a local subscription that goes to one registered context
/// source, reduced to what the registration says the source holds, with this broker as its notification endpoint; and
/// the way back (clause 5.8.6): what of a source's notification reaches the local subscriber.
/// </summary>
public static class SubscriptionNarrowing
{
    /// <summary>Members of the local subscription the remote copy carries as they are (in the local subscription's terms).</summary>
    private static readonly string[] Kept =
        ["q", "geoQ", "scopeQ", "notificationTrigger", "timeInterval", "throttling", "expiresAt", "isActive", "lang", "datasetId", "splitEntities"];

    /// <summary>True when the subscription asks for splitEntities: notified fragments are merged and filtered here (clause 5.8.6).</summary>
    public static bool IsSplit(Subscription subscription) =>
        subscription.Body["splitEntities"] is JsonValue v && v.TryGetValue<bool>(out var split) && split;

    /// <summary>True when the subscription stays on this broker (localOnly, clause 5.2.12).</summary>
    public static bool IsLocalOnly(Subscription subscription) =>
        subscription.Body["localOnly"] is JsonValue v && v.TryGetValue<bool>(out var local) && local;

    /// <summary>
    /// The reduced copy of <paramref name="local"/> for the source of <paramref name="registration"/>, or null when the
    /// registration holds nothing the subscription is about. The copy keeps the entity selectors the registration can
    /// match, watches and notifies only the attributes the registration names (all, when it names none), leaves q out when
    /// splitEntities asks for the query to be applied here to the merged entity, and notifies <paramref name="notifyUri"/>
    /// in the normalized format. <paramref name="compact"/> names attribute IRIs in the local subscription's terms.
    /// </summary>
    public static JsonObject? Reduce(Subscription local, Registration registration, string remoteId, string notifyUri, Func<string, string> compact)
    {
        var selectors = local.Filter.Selectors;
        var specs = selectors?.Select(EntitySpec.From).ToList();
        var information = new RegistrationFilter(Entities: specs, Attributes: local.WatchedAttributes).MatchingInformation(registration).ToList();
        if (information.Count == 0) return null;

        var body = new JsonObject { ["id"] = remoteId, ["type"] = "Subscription" };
        if (specs is not null && local.Body["entities"] is JsonArray given && given.Count == specs.Count)
        {
            var kept = new JsonArray();
            for (var i = 0; i < specs.Count; i++)
                if (information.Any(info => info.Entities is null || info.Entities.Any(specs[i].Matches))) kept.Add(given[i]?.DeepClone());
            body["entities"] = kept;
        }
        else if (specs is null && information.All(info => info.Entities is not null))
        {
            // A subscription by watched attributes only: the copy still asks only for the entities the source is registered for.
            body["entities"] = new JsonArray(information.SelectMany(info => info.Entities!).Select(e => (JsonNode)Selector(e, compact)).ToArray());
        }

        // The attributes the source provides (null: every attribute).
        IReadOnlySet<string>? provided = information.Any(i => i.Attributes is null)
            ? null
            : information.SelectMany(i => i.Attributes!).ToHashSet(StringComparer.Ordinal);
        if (Narrow(local.WatchedAttributes, provided) is { } watched && local.TimeInterval is null)
            body["watchedAttributes"] = Names(watched, compact);
        foreach (var member in Kept)
            if (local.Body[member] is { } value) body[member] = value.DeepClone();
        if (IsSplit(local)) body.Remove("q");

        var notification = new JsonObject
        {
            ["endpoint"] = new JsonObject { ["uri"] = notifyUri, ["accept"] = "application/json" },
            ["format"] = "normalized",
        };
        if (Narrow(local.Notification.Attributes, provided) is { } attributes) notification["attributes"] = Names(attributes, compact);
        if (local.Notification.SysAttrs) notification["sysAttrs"] = true;
        if (local.Notification.ShowChanges) notification["showChanges"] = true;
        body["notification"] = notification;
        return body;
    }

    /// <summary>
    /// The PATCH fragment that turns the copy a source holds (<paramref name="sent"/>) into <paramref name="next"/>: the
    /// members that changed, and null for those that are gone (clause 5.8.2: a null removes a member); null when nothing changed.
    /// </summary>
    public static JsonObject? Fragment(JsonObject sent, JsonObject next)
    {
        var fragment = new JsonObject();
        foreach (var (member, value) in next)
            if (member != "id" && !JsonNode.DeepEquals(value, sent[member])) fragment[member] = value?.DeepClone();
        foreach (var (member, _) in sent)
            if (member != "id" && !next.ContainsKey(member)) fragment[member] = null;
        return fragment.Count == 0 ? null : fragment;
    }

    /// <summary>
    /// What one entity of a source's notification becomes for the local subscriber, or null when it is dropped (clause 5.8.6).
    /// With splitEntities the notified fragment is completed with what this broker and the other sources hold of the entity
    /// (<paramref name="elsewhere"/>: the notified values win, the rest only fills in). The result must still match the
    /// local subscription's entities, q, geoQ and scopeQ; a deletion (<paramref name="deletedAt"/>) is checked against the
    /// entity selectors only, since a deleted entity has no attributes to query. So is an entity the source notified with
    /// only some attributes (<paramref name="partial"/>: the copy named notification attributes): q may be about others,
    /// and the source applied it already.
    /// </summary>
    public static EntityChange? Deliverable(Subscription local, Entity notified, DateTimeOffset? deletedAt, IEnumerable<Entity> elsewhere, DateTimeOffset now,
        bool partial = false)
    {
        var selectorsOnly = local.Filter with { Q = null, Geo = null, ScopeQ = null };
        if (deletedAt is { } at)
            return EntityMatcher.Matches(notified, selectorsOnly) ? new EntityChange(notified, null, at) : null;
        if (!IsSplit(local)) return EntityMatcher.Matches(notified, partial ? selectorsOnly : local.Filter) ? new EntityChange(null, notified, now) : null;
        var merge = new EntityMerge();
        merge.Add(notified);
        foreach (var other in elsewhere.Where(e => e.Id == notified.Id)) merge.AddAuxiliary(other);
        var merged = merge.Find(notified.Id)!;
        return EntityMatcher.Matches(merged, local.Filter) ? new EntityChange(null, merged, now) : null;
    }

    private static IReadOnlySet<string>? Narrow(IReadOnlySet<string>? wanted, IReadOnlySet<string>? provided) =>
        provided is null ? wanted : wanted is null ? provided : wanted.Where(provided.Contains).ToHashSet(StringComparer.Ordinal);

    private static JsonArray Names(IReadOnlySet<string> iris, Func<string, string> compact) =>
        new(iris.Order(StringComparer.Ordinal).Select(iri => (JsonNode)JsonValue.Create(compact(iri))).ToArray());

    private static JsonObject Selector(EntityInfo info, Func<string, string> compact)
    {
        var selector = new JsonObject { ["type"] = string.Join(",", info.Types.Select(compact)) };
        if (info.Id is not null) selector["id"] = info.Id;
        else if (info.IdPattern is not null) selector["idPattern"] = info.IdPattern;
        return selector;
    }
}

/// <summary>A source's notification as received: the subscription it names and its entities (a deleted one with its deletedAt).</summary>
public sealed record InboundNotification(string SubscriptionId, IReadOnlyList<(Entity Entity, DateTimeOffset? DeletedAt)> Entities)
{
    /// <summary>
    /// Reads a Notification (clause 5.3.1) in normalized form, its terms expanded with <paramref name="context"/> (the
    /// @context it was sent with). Null when it is no notification at all.
    /// </summary>
    public static InboundNotification? Read(JsonObject body, Kontext.Ngsi.JsonLd.JsonLdContext context)
    {
        if (body["subscriptionId"] is not JsonValue v || !v.TryGetValue<string>(out var subscriptionId) || body["data"] is not JsonArray data) return null;
        var entities = new List<(Entity, DateTimeOffset?)>();
        foreach (var item in data.OfType<JsonObject>())
        {
            var copy = (JsonObject)item.DeepClone();
            DateTimeOffset? deletedAt = null;
            if (copy["deletedAt"] is JsonValue d && d.TryGetValue<string>(out var text) && Validate.TryParseDateTime(text, out var when)) deletedAt = when;
            copy.Remove("deletedAt");
            if (deletedAt is not null)
                foreach (var member in copy.Select(p => p.Key).Where(k => k is not ("id" or "type" or "@context")).ToList()) copy.Remove(member);
            entities.Add((SourceEntities.ReadOne(copy, context), deletedAt));
        }
        return new InboundNotification(subscriptionId, entities);
    }
}
