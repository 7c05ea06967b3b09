using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Model;

namespace Kontext.Ngsi.Formats;

/// <summary>
/// The GeoJSON representation (clause 4.5.16): an entity becomes a Feature, a list a FeatureCollection. The @context,
/// when given, goes on the outermost object only.
/// </summary>
public sealed class GeoJsonRenderer(EntityRenderer members, string geometryProperty)
{
    public const string DefaultGeometryProperty = "https://uri.etsi.org/ngsi-ld/location";

    public void WriteFeature(Utf8JsonWriter writer, Entity entity, JsonNode? bodyContext = null) =>
        WriteFeature(writer, entity, projection: null, bodyContext);

    /// <summary>A FeatureCollection of entities, each shown with its own projection.</summary>
    public void WriteFeatureCollection(Utf8JsonWriter writer, IEnumerable<(Entity Entity, Projection Projection)> entities, JsonNode? bodyContext = null)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "FeatureCollection");
        writer.WriteStartArray("features");
        foreach (var (entity, projection) in entities) WriteFeature(writer, entity, projection, bodyContext: null);
        writer.WriteEndArray();
        if (bodyContext is not null)
        {
            writer.WritePropertyName("@context");
            bodyContext.WriteTo(writer);
        }
        writer.WriteEndObject();
    }

    private void WriteFeature(Utf8JsonWriter writer, Entity entity, Projection? projection, JsonNode? bodyContext)
    {
        writer.WriteStartObject();
        writer.WriteString("id", entity.Id);
        writer.WriteString("type", "Feature");
        writer.WritePropertyName("geometry");
        // The default instance's geometry (clause 4.5.16.1); another instance only when there is no default one.
        var geometry = entity.FindInstance(geometryProperty, null) ?? entity.Attributes.GetValueOrDefault(geometryProperty)?.FirstOrDefault();
        if (geometry is not null && Attr.Type(geometry) == Attr.GeoProperty && geometry["value"] is { } value) value.WriteTo(writer);
        else writer.WriteNullValue();
        writer.WriteStartObject("properties");
        if (projection is null) members.WriteMembers(writer, entity, includeId: false);
        else members.WriteMembers(writer, entity, projection, includeId: false);
        writer.WriteEndObject();
        if (bodyContext is not null)
        {
            writer.WritePropertyName("@context");
            bodyContext.WriteTo(writer);
        }
        writer.WriteEndObject();
    }
}
