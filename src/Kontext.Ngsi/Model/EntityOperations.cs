using System.Text.Json.Nodes;
using Kontext.Ngsi.Errors;

namespace Kontext.Ngsi.Model;

/// <summary>
/// The entity operations of clause 5.6 as pure functions over a working copy of the entity. Each records the
/// attribute changes it makes, so the store can append history for exactly what changed (D4). A fragment is only read
/// (its instances are copied in); Create and Replace keep the entity they are given, so callers pass a copy
/// (<see cref="Storage.EntityWrites"/> does).
/// </summary>
public sealed class EntityOperations(DateTimeOffset now)
{
    private readonly string _now = Validate.Format(now);
    public List<AttributeChange> Changes { get; } = [];
    public DateTimeOffset Now { get; } = now;

    /// <summary>Create Entity (5.6.1): stamps system times on the parsed entity.</summary>
    public Entity Create(Entity parsed)
    {
        parsed.CreatedAt = parsed.ModifiedAt = Now;
        foreach (var (name, instances) in parsed.Attributes)
        {
            foreach (var instance in instances)
            {
                Stamp(instance, null);
                Changes.Add(new(name, Attr.DatasetId(instance), AttributeChangeKind.Created, instance));
            }
        }
        return parsed;
    }

    /// <summary>Append Entity Attributes (5.6.3). noOverwrite keeps existing instances and reports them.</summary>
    public UpdateResult Append(Entity entity, Entity fragment, bool noOverwrite)
    {
        var result = new UpdateResult();
        AddTypes(entity, fragment.Types);
        entity.ExpiresAt = Transience.Apply(entity.ExpiresAt, fragment.ExpiresAt);
        if (fragment.Scopes is not null)
            entity.Scopes = noOverwrite ? [.. (entity.Scopes ?? []).Union(fragment.Scopes)] : [.. fragment.Scopes];
        foreach (var (name, instances) in fragment.Attributes)
        {
            var skipped = false;
            foreach (var instance in instances)
            {
                var existing = entity.FindInstance(name, Attr.DatasetId(instance));
                if (existing is not null && noOverwrite) { skipped = true; continue; }
                Put(entity, name, instance, existing);
            }
            if (skipped) result.NotUpdated.Add(new(name, "The attribute exists and options=noOverwrite was given"));
            else result.Updated.Add(name);
        }
        Touch(entity);
        return result;
    }

    /// <summary>
    /// Update Entity Attributes (5.6.2 in v1.9.1): each instance of the fragment replaces the one with its datasetId, or
    /// is appended when the entity has none; NGSI-LD Null deletes (and names nothing to delete when the instance is
    /// missing, which is reported).
    /// </summary>
    /// <param name="ownsFragment">The fragment is the decision's own (<see cref="Storage.EntityWrites"/> hands it over): its instances are kept, not copied.</param>
    public UpdateResult Update(Entity entity, Entity fragment, bool ownsFragment = false)
    {
        var result = new UpdateResult();
        AddTypes(entity, fragment.Types);
        entity.ExpiresAt = Transience.Apply(entity.ExpiresAt, fragment.ExpiresAt);
        if (fragment.Scopes is not null)
        {
            if (entity.Scopes is { Count: > 0 }) { entity.Scopes = [.. fragment.Scopes]; result.Updated.Add("scope"); }
            else result.NotUpdated.Add(new("scope", "The entity has no scope to update"));
        }
        foreach (var (name, instances) in fragment.Attributes)
        {
            var updatedAll = true;
            foreach (var instance in instances)
            {
                var datasetId = Attr.DatasetId(instance);
                var existing = entity.FindInstance(name, datasetId);
                if (IsDeletion(instance))
                {
                    if (existing is null) updatedAll = false;
                    else RemoveInstance(entity, name, existing);
                }
                else if (Attr.Payload(instance) is null) throw NgsiException.BadRequestData($"Attribute '{name}' has no value to update with");
                else Put(entity, name, instance, existing, ownsFragment);
            }
            if (updatedAll) result.Updated.Add(name);
            else result.NotUpdated.Add(new(name, "NGSI-LD Null names an attribute (or an instance with that datasetId) the entity does not have"));
        }
        Touch(entity);
        return result;
    }

    /// <summary>Partial Attribute Update (5.6.4): the fragment's members are merged into the targeted instance.</summary>
    public void PartialUpdate(Entity entity, string name, JsonObject fragment)
    {
        var datasetId = Attr.DatasetId(fragment);
        var existing = entity.FindInstance(name, datasetId) ?? throw NotFoundInstance(name, datasetId);
        if (fragment.Count == 0 || fragment.All(p => p.Key is "datasetId"))
            throw NgsiException.BadRequestData($"The fragment for '{name}' is empty");
        if (fragment["type"] is { } t && t.GetValue<string>() != Attr.Type(existing))
            throw NgsiException.BadRequestData($"The fragment is a {t.GetValue<string>()}, the attribute '{name}' is a {Attr.Type(existing)}");
        if (IsDeletion(fragment)) { RemoveInstance(entity, name, existing); Touch(entity); return; }
        var merged = MergeInstance(existing, fragment);
        Put(entity, name, merged, existing);
        Touch(entity);
    }

    /// <summary>Replace Attribute (5.6.19): the instance with the same datasetId is replaced whole.</summary>
    public void ReplaceAttribute(Entity entity, string name, JsonObject replacement)
    {
        var existing = entity.FindInstance(name, Attr.DatasetId(replacement)) ?? throw NotFoundInstance(name, Attr.DatasetId(replacement));
        Put(entity, name, replacement, existing);
        Touch(entity);
    }

    /// <summary>Delete Attribute (5.6.5): the default instance, the one with datasetId, or all of them.</summary>
    public void DeleteAttribute(Entity entity, string name, string? datasetId, bool deleteAll)
    {
        if (!entity.Attributes.TryGetValue(name, out var instances)) throw NgsiException.NotFound($"The entity has no attribute '{name}'");
        if (deleteAll)
        {
            foreach (var instance in instances.ToList()) RemoveInstance(entity, name, instance);
        }
        else
        {
            var target = entity.FindInstance(name, datasetId) ?? throw NotFoundInstance(name, datasetId);
            RemoveInstance(entity, name, target);
        }
        Touch(entity);
    }

    /// <summary>Replace Entity (5.6.18): everything but id and createdAt comes from the replacement.</summary>
    public Entity Replace(Entity entity, Entity replacement)
    {
        foreach (var (name, instances) in entity.Attributes)
        {
            foreach (var instance in instances)
            {
                if (replacement.FindInstance(name, Attr.DatasetId(instance)) is null)
                    Changes.Add(AttributeChange.Deletion(name, instance));
            }
        }
        foreach (var (name, instances) in replacement.Attributes)
        {
            foreach (var instance in instances)
            {
                var previous = entity.FindInstance(name, Attr.DatasetId(instance));
                Stamp(instance, previous);
                Changes.Add(new(name, Attr.DatasetId(instance), previous is null ? AttributeChangeKind.Created : AttributeChangeKind.Updated, instance));
            }
        }
        replacement.CreatedAt = entity.CreatedAt;
        replacement.ModifiedAt = Now;
        return replacement;
    }

    /// <summary>Merge Entity (5.6.17): attributes and sub-attributes merged; NGSI-LD Null deletes.</summary>
    public void Merge(Entity entity, Entity patch)
    {
        AddTypes(entity, patch.Types);
        entity.ExpiresAt = Transience.Apply(entity.ExpiresAt, patch.ExpiresAt);
        if (patch.Scopes is not null) entity.Scopes = patch.Scopes.Count == 0 ? null : [.. patch.Scopes];
        foreach (var (name, instances) in patch.Attributes)
        {
            foreach (var instance in instances)
            {
                var existing = entity.FindInstance(name, Attr.DatasetId(instance));
                if (IsDeletion(instance))
                {
                    if (existing is not null) RemoveInstance(entity, name, existing);
                    continue;
                }
                if (existing is null)
                {
                    var clean = MergeInstance(new JsonObject(), instance, patchValues: true);
                    if (Attr.Payload(clean) is null)
                        throw NgsiException.BadRequestData($"Attribute '{name}' does not exist and the patch gives it no value");
                    Put(entity, name, clean, null);
                }
                else Put(entity, name, MergeInstance(existing, instance, patchValues: true), existing);
            }
        }
        Touch(entity);
    }

    private static NgsiException NotFoundInstance(string name, string? datasetId) => NgsiException.NotFound(datasetId is null
        ? $"The entity has no default instance of attribute '{name}'"
        : $"The entity has no instance of attribute '{name}' with datasetId '{datasetId}'");

    /// <summary>An instance whose payload is NGSI-LD Null asks for the deletion of that instance.</summary>
    private static bool IsDeletion(JsonObject instance)
    {
        foreach (var member in Attr.ConciseKind.Keys)
        {
            if (!instance.TryGetPropertyValue(member, out var payload)) continue;
            if (Attr.IsNullMarker(payload)) return true;
            if (member == "languageMap" && Attr.IsNullLanguageMap(payload)) return true;
        }
        return false;
    }

    /// <summary>
    /// Merges a fragment into an instance: members replaced, sub-attributes merged recursively, NGSI-LD Null removes.
    /// <paramref name="patchValues"/> (Merge Entity, clause 5.5.12): a JSON object value is itself merge-patched (IETF RFC 7396),
    /// its keys set to NGSI-LD Null removed; a geometry is replaced whole.
    /// </summary>
    private static JsonObject MergeInstance(JsonObject existing, JsonObject fragment, bool patchValues = false)
    {
        var merged = (JsonObject)existing.DeepClone();
        if (fragment["type"] is { } type && type.GetValue<string>() != Attr.Type(existing))
        {
            // A different attribute type carries a different payload member: drop the old one.
            foreach (var member in Attr.ConciseKind.Keys) merged.Remove(member);
        }
        foreach (var (member, value) in fragment)
        {
            if (Attr.IsSubAttribute(member))
            {
                if (value is JsonObject sub && Attr.IsNullMarker(sub["value"]) && sub.Count == 1) { merged.Remove(member); continue; }
                merged[member] = merged[member] is JsonObject existingSub && value is JsonObject subFragment
                    ? MergeInstance(existingSub, subFragment, patchValues)
                    : value?.DeepClone();
                continue;
            }
            if (patchValues && member == "value" && value is JsonObject patch && Attr.Type(merged) != Attr.GeoProperty)
            {
                merged[member] = merged[member] is JsonObject target ? MergePatch(target, patch) : WithoutNulls(patch);
                continue;
            }
            if (Attr.IsNullMarker(value) && member is "observedAt" or "unitCode") { merged.Remove(member); continue; }
            merged[member] = value?.DeepClone();
        }
        return merged;
    }

    /// <summary>IETF RFC 7396 with NGSI-LD Null as the null that removes a key.</summary>
    private static JsonObject MergePatch(JsonObject target, JsonObject patch)
    {
        var result = (JsonObject)target.DeepClone();
        foreach (var (key, value) in patch)
        {
            if (value is JsonValue v && v.TryGetValue<string>(out var s) && s == Attr.NullMarker) result.Remove(key);
            else if (value is JsonObject inner) result[key] = result[key] is JsonObject existing ? MergePatch(existing, inner) : WithoutNulls(inner);
            else result[key] = value?.DeepClone();
        }
        return result;
    }

    private static JsonObject WithoutNulls(JsonObject patch) => MergePatch(new JsonObject(), patch);

    private void Put(Entity entity, string name, JsonObject instance, JsonObject? existing, bool owned = false)
    {
        var copy = owned ? instance : (JsonObject)instance.DeepClone();
        Stamp(copy, existing);
        if (!entity.Attributes.TryGetValue(name, out var instances)) entity.Attributes[name] = instances = [];
        var index = existing is null ? -1 : instances.IndexOf(existing);
        if (index >= 0) instances[index] = copy; else instances.Add(copy);
        Changes.Add(new(name, Attr.DatasetId(copy), existing is null ? AttributeChangeKind.Created : AttributeChangeKind.Updated, copy));
    }

    private void RemoveInstance(Entity entity, string name, JsonObject instance)
    {
        var instances = entity.Attributes[name];
        instances.Remove(instance);
        if (instances.Count == 0) entity.Attributes.Remove(name);
        Changes.Add(AttributeChange.Deletion(name, instance));
    }

    /// <summary>Sets createdAt (kept from the previous instance) and modifiedAt, on the instance and its sub-attributes.</summary>
    private void Stamp(JsonObject instance, JsonObject? previous)
    {
        instance["createdAt"] = previous?["createdAt"]?.DeepClone() ?? _now;
        instance["modifiedAt"] = _now;
        // By index, not over a copy of the members: only the sub-attributes' own members change below.
        for (var i = 0; i < instance.Count; i++)
        {
            var (member, value) = instance.GetAt(i);
            if (Attr.IsSubAttribute(member) && value is JsonObject sub)
            {
                var before = previous?[member] as JsonObject;
                if (before is not null && JsonNode.DeepEquals(WithoutTimes(before), WithoutTimes(sub)))
                {
                    sub["createdAt"] = before["createdAt"]?.DeepClone() ?? _now;
                    sub["modifiedAt"] = before["modifiedAt"]?.DeepClone() ?? _now;
                }
                else Stamp(sub, before);
            }
        }
    }

    private static JsonObject WithoutTimes(JsonObject o)
    {
        var copy = (JsonObject)o.DeepClone();
        copy.Remove("createdAt");
        copy.Remove("modifiedAt");
        return copy;
    }

    private void Touch(Entity entity) => entity.ModifiedAt = Now;

    private static void AddTypes(Entity entity, List<string> types)
    {
        foreach (var type in types)
        {
            if (!entity.Types.Contains(type)) entity.Types.Add(type);
        }
    }
}
