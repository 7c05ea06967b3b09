namespace Kontext.Ngsi.Model;

/// <summary>
/// A datasetId selection (clause 4.5.5): which instances of each multi-attribute to keep. "@none" names the default
/// instance (the one without a datasetId).
/// </summary>
public static class DatasetSelection
{
    public const string DefaultInstance = "@none";

    /// <summary>A copy of the entity with only the selected instances; attributes left without an instance are dropped.</summary>
    public static Entity Apply(Entity entity, IReadOnlySet<string> datasetIds)
    {
        var selected = new Entity(entity.Id) { Types = entity.Types, Scopes = entity.Scopes, CreatedAt = entity.CreatedAt, ModifiedAt = entity.ModifiedAt };
        foreach (var (name, instances) in entity.Attributes)
        {
            var kept = instances.Where(i => datasetIds.Contains(Attr.DatasetId(i) ?? DefaultInstance)).ToList();
            if (kept.Count > 0) selected.Attributes[name] = kept;
        }
        return selected;
    }
}
