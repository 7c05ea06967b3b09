using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Formats;
using Kontext.Ngsi.Model;

namespace Kontext.Broker.Ogc;

/// <summary>
/// Entities as GeoJSON features through the broker's own renderers: <see cref="GeoJsonRenderer"/> (clause 4.5.16) with
/// properties in keyValues form, compacted with the collection's context (smart-data-models short names). The geometry
/// property is the feature's geometry and is not repeated among the properties. In a latitude-first CRS every
/// GeoProperty value is given with its axes swapped (/req/crs/fc-crs-action: all geometry-valued properties).
/// </summary>
internal sealed class FeatureWriter(FeatureCollectionInfo collection, Crs crs)
{
    private readonly GeoJsonRenderer _renderer = new(
        new EntityRenderer(collection.Context, new RenderOptions(RenderFormat.KeyValues,
            Projection: new Projection(Omitted: new HashSet<string>(StringComparer.Ordinal) { collection.GeometryAttribute }))),
        collection.GeometryAttribute);

    public void Write(Utf8JsonWriter writer, Entity entity) => _renderer.WriteFeature(writer, InCrs(entity));

    /// <summary>One feature as a JSON object, to which the caller adds its links.</summary>
    public JsonObject ToJson(Entity entity)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer)) Write(writer, entity);
        return JsonNode.Parse(buffer.WrittenSpan)!.AsObject();
    }

    private Entity InCrs(Entity entity)
    {
        if (!crs.LatitudeFirst) return entity;
        var copy = entity.Clone();
        foreach (var instances in copy.Attributes.Values)
            foreach (var instance in instances)
                if (Attr.Type(instance) == Attr.GeoProperty && instance["value"] is { } value)
                    instance["value"] = crs.FromCrs84(value);
        return copy;
    }
}
