using System.Text.Json.Nodes;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Subscriptions;

namespace Kontext.Ngsi.Notifications;

/// <summary>
/// The entity a notification carries for one change, computed from the entity before and after it. A deleted
/// attribute instance is shown with the NGSI-LD Null payload (clause 5.2.1: "for representing deleted elements in
/// notifications") and its deletion time as deletedAt (shown with sysAttrs); with showChanges every updated or deleted
/// instance also carries its previous payload (previousValue, previousObject, previousLanguageMap, previousVocab,
/// previousJson, ...).
/// </summary>
public static class NotifiedEntity
{
    /// <summary>The entity after a creation or an update, with its deleted instances as NGSI-LD Null.</summary>
    public static Entity AfterChange(Subscription subscription, EntityChange change, DateTimeOffset now)
    {
        var after = change.After ?? throw new ArgumentException("the change deleted the entity", nameof(change));
        var before = change.Before;
        var showChanges = subscription.Notification.ShowChanges;
        if (before is null || change.Deleted.Count == 0 && (!showChanges || change.Updated.Count == 0)) return after;

        var subject = after.Clone();
        if (showChanges)
        {
            foreach (var name in change.Updated)
            {
                foreach (var instance in subject.Attributes[name])
                {
                    if (before.FindInstance(name, Attr.DatasetId(instance)) is not { } previous) continue;
                    if (Attr.Payload(previous) is { } payload && !JsonNode.DeepEquals(payload, Attr.Payload(instance)))
                        instance[PreviousMember(Attr.Type(previous))] = payload.DeepClone();
                }
            }
        }
        var at = change.At ?? now;
        foreach (var name in change.Deleted)
        {
            var previous = before.Attributes[name];
            if (subject.Attributes.TryGetValue(name, out var remaining))
            {
                var deleted = previous.Where(p => remaining.All(r => Attr.DatasetId(r) != Attr.DatasetId(p))).ToList();
                foreach (var instance in deleted) remaining.Add(Deleted(instance, keepDatasetId: true, at, showChanges));
            }
            else subject.Attributes[name] = [WholeAttributeDeleted(previous, at, showChanges)];
        }
        return subject;
    }

    /// <summary>
    /// A deleted entity: its id, type and scope (with sysAttrs its createdAt and modifiedAt; the caller adds deletedAt),
    /// and the attributes the subscription asked to see deleted: all of them with showChanges, else the watched ones
    /// when it is triggered by attribute deletions (an entity deletion deletes every attribute), else none.
    /// </summary>
    public static Entity Deleted(Subscription subscription, EntityChange change, DateTimeOffset now)
    {
        var before = change.Before ?? throw new ArgumentException("the change did not delete an entity", nameof(change));
        var shell = new Entity(before.Id) { Types = before.Types, Scopes = before.Scopes, CreatedAt = before.CreatedAt, ModifiedAt = before.ModifiedAt };
        var showChanges = subscription.Notification.ShowChanges;
        var watched = subscription.WatchedAttributes;
        IEnumerable<string> shown = showChanges ? before.Attributes.Keys
            : subscription.Triggers.Contains(NotificationTrigger.AttributeDeleted) ? before.Attributes.Keys.Where(n => watched is null || watched.Contains(n))
            : [];
        var at = change.At ?? now;
        foreach (var name in shown) shell.Attributes[name] = [WholeAttributeDeleted(before.Attributes[name], at, showChanges)];
        return shell;
    }

    /// <summary>
    /// An attribute deleted with all its instances is one NGSI-LD Null: that of its only instance (datasetId kept), or,
    /// when it had several, of the whole attribute (no datasetId; previous payload of the default instance if any).
    /// </summary>
    private static JsonObject WholeAttributeDeleted(List<JsonObject> instances, DateTimeOffset at, bool showChanges)
    {
        var basis = instances.FirstOrDefault(i => Attr.DatasetId(i) is null) ?? instances[0];
        return Deleted(basis, keepDatasetId: instances.Count == 1, at, showChanges);
    }

    private static JsonObject Deleted(JsonObject previous, bool keepDatasetId, DateTimeOffset at, bool showChanges)
    {
        var type = Attr.Type(previous);
        var marker = new JsonObject { ["type"] = type, [Attr.PayloadMember.GetValueOrDefault(type, "value")] = Attr.NullPayload(type) };
        if (keepDatasetId && Attr.DatasetId(previous) is { } datasetId) marker["datasetId"] = datasetId;
        if (previous["createdAt"] is { } createdAt) marker["createdAt"] = createdAt.DeepClone();
        if (previous["modifiedAt"] is { } modifiedAt) marker["modifiedAt"] = modifiedAt.DeepClone();
        marker["deletedAt"] = Validate.Format(at);
        if (showChanges && Attr.Payload(previous) is { } payload) marker[PreviousMember(type)] = payload.DeepClone();
        return marker;
    }

    /// <summary>previousValue, previousObject, previousLanguageMap, ...: "previous" and the type's payload member.</summary>
    private static string PreviousMember(string type)
    {
        var member = Attr.PayloadMember.GetValueOrDefault(type, "value");
        return "previous" + char.ToUpperInvariant(member[0]) + member[1..];
    }
}
