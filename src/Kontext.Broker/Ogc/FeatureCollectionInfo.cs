using Kontext.Ngsi.JsonLd;

namespace Kontext.Broker.Ogc;

/// <summary>
/// One OGC collection: the entities of one NGSI-LD type that have its geometry property. <see cref="Id"/> is the type's
/// short name in <see cref="Context"/> (the smart-data-models @context of its subject when the broker ships one, else the
/// core context). <see cref="Attributes"/> are every attribute the type's entities carry (expanded), the geometry among
/// them; <see cref="Properties"/> maps the short name of each one that can be filtered by value (not a geometry) to it.
/// </summary>
internal sealed record FeatureCollectionInfo(
    string Id,
    string TypeIri,
    string GeometryAttribute,
    long FeatureCount,
    IReadOnlyCollection<string> Attributes,
    IReadOnlyDictionary<string, string> Properties,
    JsonLdContext Context)
{

    /// <summary>The short name of the type (the collection id, or the full IRI when another type holds that name).</summary>
    public string Title => Context.CompactIri(TypeIri);
}
