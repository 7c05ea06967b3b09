using System.Text.Json.Nodes;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Model;

namespace Kontext.Ngsi.Formats;

/// <summary>How linked entities are shown (clause 4.5.23): inside the Relationship ("entity") or after the entities.</summary>
public enum JoinMode { Inline, Flat }

/// <summary>
/// The entities a join reaches (clause 4.5.23): from the entities of a response, the objects of the Relationships and
/// ListRelationships the response shows, and from those, theirs, up to <see cref="Level"/> hops. Each hop is one batched
/// read (never one read per link), and at most a fixed number of entities is fetched per request.
/// </summary>
public sealed class LinkedEntities
{
    /// <summary>The deepest join a request may ask for (joinLevel).</summary>
    public const int MaxLevel = 10;

    private readonly Dictionary<string, Entity> _entities;

    private LinkedEntities(JoinMode mode, int level, Dictionary<string, Entity> entities, List<(Entity, Projection)> flat)
    {
        Mode = mode;
        Level = level;
        _entities = entities;
        Flat = flat;
    }

    public JoinMode Mode { get; }

    public int Level { get; }

    /// <summary>The linked entities that are not among the response's own entities, each once, in the order reached, with the projection they were reached with.</summary>
    public IReadOnlyList<(Entity Entity, Projection Projection)> Flat { get; }

    /// <summary>An entity the join reached, or one of the response's own entities; null when it does not exist.</summary>
    public Entity? Find(string id) => _entities.GetValueOrDefault(id);

    /// <summary>
    /// Follows the links of <paramref name="roots"/> hop by hop. <paramref name="fetch"/> reads the entities with the given
    /// ids (the missing ones are left out); it is called at most once per hop. More than <paramref name="maxEntities"/>
    /// linked entities is TooManyResults.
    /// </summary>
    public static async Task<LinkedEntities> FetchAsync(JoinMode mode, int level, IReadOnlyList<(Entity Entity, Projection Projection)> roots,
        Func<IReadOnlyCollection<string>, CancellationToken, Task<IReadOnlyList<Entity>>> fetch, int maxEntities, CancellationToken cancellationToken)
    {
        var known = new Dictionary<string, Entity>(StringComparer.Ordinal);
        foreach (var (entity, _) in roots) known.TryAdd(entity.Id, entity);
        var missing = new HashSet<string>(StringComparer.Ordinal);
        var inFlat = new HashSet<string>(known.Keys, StringComparer.Ordinal);
        var flat = new List<(Entity, Projection)>();
        var fetched = 0;
        IReadOnlyList<(Entity, Projection)> frontier = roots;
        for (var hop = 1; hop <= level && frontier.Count > 0; hop++)
        {
            var wanted = frontier.SelectMany(r => Targets(r.Item1, r.Item2)).ToList();
            var toFetch = wanted.Select(w => w.Id).Where(id => !known.ContainsKey(id) && !missing.Contains(id)).Distinct(StringComparer.Ordinal).ToList();
            if (toFetch.Count > 0)
            {
                fetched += toFetch.Count;
                if (fetched > maxEntities)
                    throw new NgsiException(NgsiError.TooManyResults(
                        $"The join reaches more than {maxEntities} linked entities; lower joinLevel or the page size, or select fewer Relationships"));
                var found = await fetch(toFetch, cancellationToken);
                foreach (var entity in found) known.TryAdd(entity.Id, entity);
                missing.UnionWith(toFetch.Where(id => !known.ContainsKey(id)));
            }
            var next = new List<(Entity, Projection)>();
            var seen = new HashSet<(string, Projection)>();
            foreach (var (id, projection) in wanted)
            {
                if (!known.TryGetValue(id, out var entity) || !seen.Add((id, projection))) continue;
                if (inFlat.Add(id)) flat.Add((entity, projection));
                next.Add((entity, projection));
            }
            frontier = next;
        }
        return new LinkedEntities(mode, level, known, flat);
    }

    /// <summary>The ids an entity links to through the attribute instances <paramref name="projection"/> shows, each with the projection of the linked entity.</summary>
    public static IEnumerable<(string Id, Projection Projection)> Targets(Entity entity, Projection projection)
    {
        foreach (var (iri, instances) in entity.Attributes)
        {
            foreach (var instance in projection.Instances(iri, instances))
            {
                foreach (var id in Objects(instance)) yield return (id, projection.LinkedFor(iri));
            }
        }
    }

    /// <summary>The entity ids a Relationship (object) or ListRelationship (objectList) instance points to.</summary>
    public static IEnumerable<string> Objects(JsonObject instance)
    {
        switch (Attr.Type(instance))
        {
            case Attr.Relationship:
                if (instance["object"] is JsonValue v && v.TryGetValue<string>(out var id)) yield return id;
                else if (instance["object"] is JsonArray many)
                    foreach (var item in many)
                        if (item is JsonValue iv && iv.TryGetValue<string>(out var one)) yield return one;
                break;
            case Attr.ListRelationship when instance["objectList"] is JsonArray list:
                foreach (var item in list)
                {
                    var node = item is JsonObject o ? o["object"] : item;
                    if (node is JsonValue lv && lv.TryGetValue<string>(out var listed)) yield return listed;
                }
                break;
        }
    }
}
