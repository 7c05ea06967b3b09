using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;

namespace Kontext.Ngsi.Formats;

/// <summary>
/// Writes expanded entities straight to a <see cref="Utf8JsonWriter"/>, compacted with the caller's context,
/// in the normalized, concise or keyValues representation (clause 4.5).
/// </summary>
public sealed class EntityRenderer(JsonLdContext context, RenderOptions options)
{
    public void WriteEntity(Utf8JsonWriter writer, Entity entity, JsonNode? bodyContext = null)
    {
        writer.WriteStartObject();
        WriteMembers(writer, entity);
        if (bodyContext is not null)
        {
            writer.WritePropertyName("@context");
            bodyContext.WriteTo(writer);
        }
        writer.WriteEndObject();
    }

    /// <summary>The entity's members without the enclosing braces (GeoJSON puts them under "properties").</summary>
    public void WriteMembers(Utf8JsonWriter writer, Entity entity, bool includeId = true)
    {
        var fields = options.Fields;
        if (includeId && fields.Id) writer.WriteString("id", entity.Id);
        if (fields.Type) WriteTypes(writer, "type", entity.Types);
        if (fields.Scope && entity.Scopes is { Count: > 0 } scopes)
        {
            if (scopes.Count == 1) writer.WriteString("scope", scopes[0]);
            else
            {
                writer.WriteStartArray("scope");
                foreach (var s in scopes) writer.WriteStringValue(s);
                writer.WriteEndArray();
            }
        }
        if (options.SysAttrs && options.Format != RenderFormat.KeyValues)
        {
            writer.WriteString("createdAt", Validate.Format(entity.CreatedAt));
            writer.WriteString("modifiedAt", Validate.Format(entity.ModifiedAt));
        }
        foreach (var (iri, instances) in entity.Attributes)
        {
            if (!fields.IncludesAttribute(iri)) continue;
            writer.WritePropertyName(context.CompactIri(iri));
            if (instances.Count == 1) WriteAttribute(writer, instances[0], inArray: false);
            else
            {
                writer.WriteStartArray();
                foreach (var instance in instances) WriteAttribute(writer, instance, inArray: true);
                writer.WriteEndArray();
            }
        }
    }

    /// <summary>One attribute instance as an element of an instance array (the temporal representation, clause 4.5.7).</summary>
    public void WriteInstance(Utf8JsonWriter writer, JsonObject instance) => WriteAttribute(writer, instance, inArray: true);

    private void WriteTypes(Utf8JsonWriter writer, string member, List<string> types)
    {
        if (types.Count == 1)
        {
            writer.WriteString(member, context.CompactIri(types[0]));
            return;
        }
        writer.WriteStartArray(member);
        foreach (var type in types) writer.WriteStringValue(context.CompactIri(type));
        writer.WriteEndArray();
    }

    private void WriteAttribute(Utf8JsonWriter writer, JsonObject instance, bool inArray)
    {
        switch (options.Format)
        {
            case RenderFormat.KeyValues: WriteSimplified(writer, instance); break;
            case RenderFormat.Concise: WriteConcise(writer, instance, inArray); break;
            default: WriteNormalized(writer, instance, concise: false); break;
        }
    }

    private void WriteSimplified(Utf8JsonWriter writer, JsonObject instance)
    {
        var type = Attr.Type(instance);
        var payload = Attr.Payload(instance);
        if (type == Attr.LanguageProperty && options.Lang is not null && payload is JsonObject map)
        {
            WriteNode(writer, options.Lang.Choose(map).Value);
            return;
        }
        if (type == Attr.VocabProperty) { WriteVocab(writer, payload); return; }
        if (type == Attr.ListRelationship && payload is JsonArray list)
        {
            writer.WriteStartArray();
            foreach (var item in list) WriteNode(writer, item is JsonObject o ? o["object"] : item);
            writer.WriteEndArray();
            return;
        }
        WriteNode(writer, payload);
    }

    private void WriteConcise(Utf8JsonWriter writer, JsonObject instance, bool inArray = false)
    {
        var type = Attr.Type(instance);
        var hasExtras = instance.Any(p => p.Key != "type" && p.Key != "value" && (options.SysAttrs || p.Key is not ("createdAt" or "modifiedAt")));
        if (!hasExtras && !inArray && (type == Attr.GeoProperty || type == Attr.Property && IsUnambiguousBareValue(instance["value"])))
        {
            WriteNode(writer, instance["value"]);
            return;
        }
        // A Property holding a geometry keeps its type: without it the reader would take it for a GeoProperty.
        var keepType = type == Attr.Property && Model.GeoJson.LooksLikeGeometry(instance["value"]);
        WriteNormalized(writer, instance, concise: !keepType);
    }

    /// <summary>
    /// A Property's value may stand alone only when reading it back gives the same Property: not inside a
    /// multi-attribute array, not a GeoJSON geometry (that reads as a GeoProperty), not an object that carries
    /// attribute members such as value or object.
    /// </summary>
    private static bool IsUnambiguousBareValue(JsonNode? value) => value switch
    {
        JsonObject o => !Model.GeoJson.LooksLikeGeometry(o) && !o.Any(p => Attr.ConciseKind.ContainsKey(p.Key) || p.Key == "type"),
        JsonArray a => !a.Any(e => e is JsonObject),
        _ => true,
    };

    private void WriteNormalized(Utf8JsonWriter writer, JsonObject instance, bool concise)
    {
        writer.WriteStartObject();
        var type = Attr.Type(instance);
        var chooseLanguage = type == Attr.LanguageProperty && options.Lang is not null && instance["languageMap"] is JsonObject;
        if (!concise) writer.WriteString("type", chooseLanguage ? Attr.Property : type);
        foreach (var (member, value) in instance)
        {
            switch (member)
            {
                case "type":
                    break;
                case "createdAt" or "modifiedAt" or "deletedAt":
                    if (options.SysAttrs) { writer.WritePropertyName(member); WriteNode(writer, value); }
                    break;
                case "languageMap" when chooseLanguage:
                    var (tag, chosen) = options.Lang!.Choose((JsonObject)value!);
                    writer.WritePropertyName("value");
                    WriteNode(writer, chosen);
                    if (tag != "@none") writer.WriteString("lang", tag);
                    break;
                case "vocab":
                    writer.WritePropertyName("vocab");
                    WriteVocab(writer, value);
                    break;
                case "objectType":
                    writer.WritePropertyName("objectType");
                    WriteVocab(writer, value);
                    break;
                default:
                    if (Attr.IsSubAttribute(member))
                    {
                        writer.WritePropertyName(context.CompactIri(member));
                        if (value is JsonObject sub)
                        {
                            if (options.Format == RenderFormat.Concise) WriteConcise(writer, sub);
                            else WriteNormalized(writer, sub, concise: false);
                        }
                        else WriteNode(writer, value);
                    }
                    else
                    {
                        writer.WritePropertyName(member);
                        WriteNode(writer, value);
                    }
                    break;
            }
        }
        writer.WriteEndObject();
    }

    private void WriteVocab(Utf8JsonWriter writer, JsonNode? value)
    {
        switch (value)
        {
            case JsonValue v when v.TryGetValue<string>(out var iri):
                writer.WriteStringValue(context.CompactIri(iri));
                break;
            case JsonArray a:
                writer.WriteStartArray();
                foreach (var item in a) WriteVocab(writer, item);
                writer.WriteEndArray();
                break;
            default:
                WriteNode(writer, value);
                break;
        }
    }

    private static void WriteNode(Utf8JsonWriter writer, JsonNode? node)
    {
        if (node is null) writer.WriteNullValue();
        else node.WriteTo(writer);
    }
}
