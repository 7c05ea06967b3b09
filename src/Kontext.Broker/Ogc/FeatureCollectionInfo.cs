using Kontext.Ngsi.JsonLd;

namespace Kontext.Broker.Ogc;

/// <summary>
/// One OGC collection: the entities of one NGSI-LD type that have its geometry property. <see cref="Id"/> is the type's
/// short name in <see cref="Context"/> (the smart-data-models @context of its subject when the broker ships one, else the
/// core context); <see cref="Properties"/> maps each attribute's short name to its expanded name.
/// </summary>
internal sealed record FeatureCollectionInfo(
    string Id,
    string TypeIri,
    string GeometryAttribute,
    long FeatureCount,
    IReadOnlyDictionary<string, string> Properties,
    JsonLdContext Context)
{
    /// <summary>Every attribute the type's entities carry (expanded), the geometry among them.</summary>
    public IReadOnlyCollection<string> Attributes => [.. Properties.Values];

    /// <summary>The short name of the type (the collection id, or the full IRI when another type holds that name).</summary>
    public string Title => Context.CompactIri(TypeIri);
}
