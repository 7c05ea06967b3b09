using System.Globalization;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Model;

namespace Kontext.Ngsi.ContextSources;

/// <summary>
/// The merged answer of a distributed Retrieve Entity or Query Entities (clause 4.3.6.4): entities with the same id are
/// one entity, with the union of their types, scopes and attributes. Two instances of one attribute with the same
/// datasetId are the same instance; the one observed most recently wins (observedAt, else modifiedAt; on a tie or without
/// times the one already held). Auxiliary sources only fill in: an attribute or entity that nothing else provided.
/// Entities keep the order in which they were first seen (local data first).
/// </summary>
public sealed class EntityMerge
{
    private readonly OrderedDictionary<string, Entity> _entities = new(StringComparer.Ordinal);

    public IReadOnlyList<Entity> Entities => _entities.Values.ToList();

    public int Count => _entities.Count;

    public Entity? Find(string id) => _entities.GetValueOrDefault(id);

    /// <summary>Adds local data or the answer of an inclusive, exclusive or redirect source.</summary>
    public void Add(Entity incoming) => Merge(incoming, auxiliary: false);

    /// <summary>Adds the answer of an auxiliary source: only what is still missing.</summary>
    public void AddAuxiliary(Entity incoming) => Merge(incoming, auxiliary: true);

    private void Merge(Entity incoming, bool auxiliary)
    {
        if (!_entities.TryGetValue(incoming.Id, out var held))
        {
            _entities[incoming.Id] = incoming.Clone();
            return;
        }
        foreach (var type in incoming.Types.Where(t => !held.Types.Contains(t))) held.Types.Add(type);
        if (incoming.Scopes is { Count: > 0 } scopes)
        {
            held.Scopes ??= [];
            foreach (var scope in scopes.Where(s => !held.Scopes.Contains(s))) held.Scopes.Add(scope);
        }
        if (incoming.CreatedAt != default && (held.CreatedAt == default || incoming.CreatedAt < held.CreatedAt)) held.CreatedAt = incoming.CreatedAt;
        if (incoming.ModifiedAt > held.ModifiedAt) held.ModifiedAt = incoming.ModifiedAt;
        foreach (var (name, instances) in incoming.Attributes)
        {
            if (!held.Attributes.TryGetValue(name, out var heldInstances))
            {
                held.Attributes[name] = instances.Select(i => (JsonObject)i.DeepClone()).ToList();
                continue;
            }
            if (auxiliary) continue;
            foreach (var instance in instances)
            {
                var datasetId = Attr.DatasetId(instance);
                var index = heldInstances.FindIndex(i => Attr.DatasetId(i) == datasetId);
                if (index < 0) heldInstances.Add((JsonObject)instance.DeepClone());
                else if (IsMoreRecent(instance, heldInstances[index])) heldInstances[index] = (JsonObject)instance.DeepClone();
            }
        }
    }

    /// <summary>True when <paramref name="candidate"/> was observed (or else modified) after <paramref name="held"/>.</summary>
    public static bool IsMoreRecent(JsonObject candidate, JsonObject held)
    {
        foreach (var member in (string[])["observedAt", "modifiedAt"])
        {
            var (a, b) = (Time(candidate, member), Time(held, member));
            if (a is not null && b is not null) return a > b;
            if (a is not null && b is null) return true;
            if (a is null && b is not null) return false;
        }
        return false;
    }

    private static DateTimeOffset? Time(JsonObject instance, string member) =>
        instance[member] is JsonValue value && value.TryGetValue<string>(out var text)
        && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time : null;
}
