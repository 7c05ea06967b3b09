using System.Text.Json.Nodes;

namespace Kontext.Ngsi.Model;

/// <summary>
/// An NGSI-LD entity in expanded form (D1): types and attribute names are full IRIs; each attribute is a list of
/// instances (one per datasetId, the default instance has none) in normalized form with expanded sub-attribute names.
/// </summary>
/// <param name="attributes">Room for this many attributes (the parser knows how many members it reads).</param>
public sealed class Entity(string id, int attributes = 0)
{
    public string Id { get; } = id;
    public List<string> Types { get; set; } = [];
    public List<string>? Scopes { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ModifiedAt { get; set; }

    /// <summary>When a transient entity stops existing (clause 4.22); null for a durable one.</summary>
    public DateTimeOffset? ExpiresAt { get; set; }
    public OrderedDictionary<string, List<JsonObject>> Attributes { get; } = new(attributes, StringComparer.Ordinal);

    public Entity Clone()
    {
        var copy = new Entity(Id, Attributes.Count)
        {
            Types = [.. Types],
            Scopes = Scopes is null ? null : [.. Scopes],
            CreatedAt = CreatedAt,
            ModifiedAt = ModifiedAt,
            ExpiresAt = ExpiresAt,
        };
        foreach (var (name, instances) in Attributes)
            copy.Attributes[name] = instances.Select(i => (JsonObject)i.DeepClone()).ToList();
        return copy;
    }

    /// <summary>The instance of an attribute with the given datasetId (null: the default instance).</summary>
    public JsonObject? FindInstance(string attribute, string? datasetId) =>
        Attributes.TryGetValue(attribute, out var instances) ? instances.FirstOrDefault(i => Attr.DatasetId(i) == datasetId) : null;
}
