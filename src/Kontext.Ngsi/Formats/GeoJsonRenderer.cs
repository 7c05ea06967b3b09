using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Model;

namespace Kontext.Ngsi.Formats;

/// <summary>The GeoJSON representation (clause 4.5.16): an entity becomes a Feature, a list a FeatureCollection.</summary>
public sealed class GeoJsonRenderer(EntityRenderer members, string geometryProperty)
{
    public const string DefaultGeometryProperty = "https://uri.etsi.org/ngsi-ld/location";

    public void WriteFeature(Utf8JsonWriter writer, Entity entity, JsonNode? bodyContext = null)
    {
        writer.WriteStartObject();
        writer.WriteString("id", entity.Id);
        writer.WriteString("type", "Feature");
        writer.WritePropertyName("geometry");
        var geometry = entity.FindInstance(geometryProperty, null) ?? entity.Attributes.GetValueOrDefault(geometryProperty)?.FirstOrDefault();
        if (geometry is not null && Attr.Type(geometry) == Attr.GeoProperty && geometry["value"] is { } value) value.WriteTo(writer);
        else writer.WriteNullValue();
        writer.WriteStartObject("properties");
        members.WriteMembers(writer, entity, includeId: false);
        writer.WriteEndObject();
        if (bodyContext is not null)
        {
            writer.WritePropertyName("@context");
            bodyContext.WriteTo(writer);
        }
        writer.WriteEndObject();
    }
}
