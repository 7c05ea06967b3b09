using System.Text.Json.Nodes;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;

namespace Kontext.Ngsi.Temporal;

/// <summary>
/// The Temporal Evolution of the Entity Scope (clause 4.5.6): the history keeps the Scope as a Property "scope" whose
/// instances hold the scopes (a string, or an array of them) and an observedAt; a change made through the Core API
/// gets observedAt = modifiedAt; removing the Scope is a deletion instance, shown with the empty array as its value.
/// A Scope is valid from the time it is set until it is replaced or removed (clause 4.18).
/// </summary>
public static class ScopeHistory
{
    /// <summary>The scope's name in the history: the core term "scope" expanded.</summary>
    public const string Attribute = "https://uri.etsi.org/ngsi-ld/scope";

    /// <summary>
    /// The history a write appends (D4): its own attribute changes, and a Scope instance when the write changed the
    /// Scope without recording it itself (every Core API write; a Temporal API write records its own instances).
    /// <paramref name="scopesBefore"/> are the scopes the entity had before the write (null: none, or no entity).
    /// </summary>
    public static IReadOnlyList<AttributeChange> Complete(IReadOnlyList<string>? scopesBefore, Entity after, IReadOnlyList<AttributeChange> changes)
    {
        if (changes.Any(c => c.Attribute == Attribute)) return changes;
        return Change(scopesBefore, after.Scopes, after.ModifiedAt) is { } scope ? [.. changes, scope] : changes;
    }

    /// <summary>The deletion markers of an entity deleted through the Core API at <paramref name="at"/>: one per attribute instance, and the Scope's.</summary>
    public static IReadOnlyList<AttributeChange> DeletionMarkers(Entity entity, DateTimeOffset at)
    {
        var markers = entity.Attributes.SelectMany(a => a.Value.Select(i => AttributeChange.Deletion(a.Key, i))).ToList();
        if (Change(entity.Scopes, null, at) is { } scope) markers.Add(scope);
        return markers;
    }

    /// <summary>The Scope instance for a change from <paramref name="before"/> to <paramref name="after"/> at <paramref name="modifiedAt"/>; null when unchanged.</summary>
    public static AttributeChange? Change(IReadOnlyList<string>? before, IReadOnlyList<string>? after, DateTimeOffset modifiedAt)
    {
        IReadOnlyList<string> from = before ?? [], to = after ?? [];
        if (from.SequenceEqual(to, StringComparer.Ordinal)) return null;
        // The removal keeps an observedAt too: the Scope's validity (clause 4.18) is read on one time axis.
        if (to.Count == 0)
            return new AttributeChange(Attribute, null, AttributeChangeKind.Deleted, new JsonObject { ["type"] = Attr.Property, ["observedAt"] = Validate.Format(modifiedAt) });
        var instance = new JsonObject
        {
            ["type"] = Attr.Property,
            ["value"] = Value(to),
            ["observedAt"] = Validate.Format(modifiedAt),
        };
        return new AttributeChange(Attribute, null, from.Count == 0 ? AttributeChangeKind.Created : AttributeChangeKind.Updated, instance);
    }

    /// <summary>One scope as a string, several as an array (the forms clause 4.18 gives the Scope).</summary>
    public static JsonNode Value(IReadOnlyList<string> scopes) =>
        scopes.Count == 1 ? JsonValue.Create(scopes[0]) : new JsonArray(scopes.Select(s => (JsonNode?)JsonValue.Create(s)).ToArray());

    /// <summary>The scopes an instance of the Scope holds; none for a deletion.</summary>
    public static IReadOnlyList<string> Scopes(AttributeInstanceRecord record)
    {
        if (record.Kind == AttributeChangeKind.Deleted || record.InstanceJson is null) return [];
        return Formats.StoredJson.Parse(record.InstanceJson)?["value"] switch
        {
            JsonValue v when v.TryGetValue<string>(out var s) => [s],
            JsonArray a => a.Select(e => e is JsonValue ev && ev.TryGetValue<string>(out var s) ? s : null).OfType<string>().ToList(),
            _ => [],
        };
    }
}
