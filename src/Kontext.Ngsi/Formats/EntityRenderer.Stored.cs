using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Model;

namespace Kontext.Ngsi.Formats;

/// <summary>
/// The same representations written from a <see cref="StoredEntity"/>: the instances are read as the stored document's
/// elements, so no <see cref="JsonObject"/> is built for them. It covers what a plain Retrieve Entity asks for
/// (<see cref="CoversStored"/>); the output is the same, byte for byte, as the <see cref="Entity"/> path's.
/// </summary>
public sealed partial class EntityRenderer
{
    /// <summary>
    /// True when these options can be rendered from a <see cref="StoredEntity"/>: any representation with or without
    /// sysAttrs and attrs/pick/omit, but no language choice, datasetId filter or join (those stay on the Entity path).
    /// </summary>
    public static bool CoversStored(RenderOptions options) =>
        options.Lang is null && options.Joined is null && options.Fields is { DatasetIds: null, Linked: null };

    /// <summary>True when the projection shows nothing of the entity (<see cref="Projection.LeavesNothingOf"/> for the stored view).</summary>
    public static bool LeavesNothingOf(Projection fields, StoredEntity entity)
    {
        if (fields.Id || fields.Type && entity.Types.Count > 0 || fields.Scope && entity.Scopes is { Count: > 0 }) return false;
        foreach (var attribute in entity.Attributes)
            if (attribute.Count > 0 && fields.IncludesAttribute(attribute.Iri)) return false;
        return true;
    }

    public void WriteEntity(Utf8JsonWriter writer, StoredEntity entity, JsonNode? bodyContext = null)
    {
        var fields = options.Fields;
        writer.WriteStartObject();
        if (fields.Id) writer.WriteString("id", entity.Id);
        WriteEntityMembers(writer, fields, entity.Types, entity.Scopes, entity.CreatedAt, entity.ModifiedAt, entity.ExpiresAt);
        foreach (var attribute in entity.Attributes)
        {
            if (attribute.Count == 0 || !fields.IncludesAttribute(attribute.Iri)) continue;
            var instances = entity.InstancesOf(attribute);
            writer.WritePropertyName(context.CompactIri(attribute.Iri));
            if (instances.Length == 1) WriteStoredAttribute(writer, entity, instances[0], inArray: false);
            else if (options.Format == RenderFormat.KeyValues)
            {
                writer.WriteStartObject();
                writer.WriteStartObject("dataset");
                foreach (var instance in instances)
                {
                    writer.WritePropertyName(StringMember(instance.Members, "datasetId"u8) ?? Projection.DefaultInstance);
                    WriteStoredSimplified(writer, instance.Members);
                }
                writer.WriteEndObject();
                writer.WriteEndObject();
            }
            else
            {
                writer.WriteStartArray();
                foreach (var instance in instances) WriteStoredAttribute(writer, entity, instance, inArray: true);
                writer.WriteEndArray();
            }
        }
        if (bodyContext is not null)
        {
            writer.WritePropertyName("@context");
            bodyContext.WriteTo(writer);
        }
        writer.WriteEndObject();
    }

    private void WriteStoredAttribute(Utf8JsonWriter writer, StoredEntity entity, StoredInstance instance, bool inArray)
    {
        switch (options.Format)
        {
            case RenderFormat.KeyValues: WriteStoredSimplified(writer, instance.Members); break;
            case RenderFormat.Concise: WriteStoredConcise(writer, instance.Members, entity, instance, inArray); break;
            default: WriteStoredNormalized(writer, instance.Members, entity, instance, concise: false); break;
        }
    }

    /// <summary><see cref="WriteSimplified"/> without a language choice or a join.</summary>
    private void WriteStoredSimplified(Utf8JsonWriter writer, JsonElement instance)
    {
        var type = StoredType(instance);
        var payload = Member(instance, Attr.PayloadMember.GetValueOrDefault(type, "value"));
        switch (type)
        {
            case Attr.LanguageProperty or Attr.JsonProperty:
                writer.WriteStartObject();
                writer.WritePropertyName(Attr.PayloadMember[type]);
                WriteElement(writer, payload);
                writer.WriteEndObject();
                return;
            case Attr.VocabProperty:
                writer.WriteStartObject();
                writer.WritePropertyName("vocab");
                WriteStoredVocab(writer, payload);
                writer.WriteEndObject();
                return;
            case Attr.ListRelationship when payload is { ValueKind: JsonValueKind.Array } list:
                writer.WriteStartArray();
                foreach (var item in list.EnumerateArray())
                    WriteElement(writer, item.ValueKind == JsonValueKind.Object ? Member(item, "object") : item);
                writer.WriteEndArray();
                return;
            default: // a Relationship's object is written as it is, as the Entity path writes its string
                WriteElement(writer, payload);
                return;
        }
    }

    /// <summary><see cref="WriteConcise"/> over the stored instance; <paramref name="stored"/> brings its trailing times.</summary>
    private void WriteStoredConcise(Utf8JsonWriter writer, JsonElement instance, StoredEntity entity, StoredInstance? stored, bool inArray)
    {
        var type = StoredType(instance);
        var value = Member(instance, "value");
        var hasExtras = options.SysAttrs && stored is { HasTimes: true };
        if (!hasExtras)
        {
            foreach (var member in instance.EnumerateObject())
            {
                if (member.NameEquals("type"u8) || member.NameEquals("value"u8)) continue;
                if (options.SysAttrs || !IsSystemTime(member)) { hasExtras = true; break; }
            }
        }
        if (!hasExtras && !inArray && (type == Attr.GeoProperty || type == Attr.Property && IsUnambiguousBareValue(value)))
        {
            WriteElement(writer, value);
            return;
        }
        // A Property holding a geometry keeps its type: without it the reader would take it for a GeoProperty.
        var keepType = type == Attr.Property && LooksLikeGeometry(value);
        WriteStoredNormalized(writer, instance, entity, stored, concise: !keepType);
    }

    /// <summary><see cref="WriteNormalized"/> without a language choice or a join.</summary>
    private void WriteStoredNormalized(Utf8JsonWriter writer, JsonElement instance, StoredEntity entity, StoredInstance? stored, bool concise)
    {
        writer.WriteStartObject();
        if (!concise) writer.WriteString("type", StoredType(instance));
        foreach (var member in instance.EnumerateObject())
        {
            if (member.NameEquals("type"u8)) continue;
            if (IsSystemTime(member))
            {
                if (options.SysAttrs) member.WriteTo(writer);
                continue;
            }
            if (member.NameEquals("vocab"u8) || member.NameEquals("previousVocab"u8) || member.NameEquals("objectType"u8) || member.NameEquals("entityTypeSealed"u8))
            {
                writer.WritePropertyName(member.Name);
                WriteStoredVocab(writer, member.Value);
                continue;
            }
            if (IsCommonCoreMember(member))
            {
                member.WriteTo(writer);
                continue;
            }
            var name = member.Name;
            if (!Attr.IsSubAttribute(name))
            {
                member.WriteTo(writer);
                continue;
            }
            writer.WritePropertyName(context.CompactIri(name));
            if (member.Value.ValueKind != JsonValueKind.Object) member.Value.WriteTo(writer);
            else if (options.Format == RenderFormat.Concise) WriteStoredConcise(writer, member.Value, entity, stored: null, inArray: false);
            else WriteStoredNormalized(writer, member.Value, entity, stored: null, concise: false);
        }
        // The times the stored form keeps outside the instance were its last two members.
        if (options.SysAttrs && stored is { HasTimes: true } timed)
        {
            writer.WriteString("createdAt", entity.Time(timed.Created));
            writer.WriteString("modifiedAt", entity.Time(timed.Modified));
        }
        writer.WriteEndObject();
    }

    private void WriteStoredVocab(Utf8JsonWriter writer, JsonElement? value)
    {
        switch (value)
        {
            case { ValueKind: JsonValueKind.String } iri:
                writer.WriteStringValue(context.CompactIri(iri.GetString()!));
                break;
            case { ValueKind: JsonValueKind.Array } list:
                writer.WriteStartArray();
                foreach (var item in list.EnumerateArray()) WriteStoredVocab(writer, item);
                writer.WriteEndArray();
                break;
            default:
                WriteElement(writer, value);
                break;
        }
    }

    /// <summary>The core members most instances carry, recognized without a string of the member's name.</summary>
    private static bool IsCommonCoreMember(JsonProperty member) =>
        member.NameEquals("value"u8) || member.NameEquals("observedAt"u8) || member.NameEquals("unitCode"u8) || member.NameEquals("object"u8)
        || member.NameEquals("datasetId"u8);

    private static bool IsSystemTime(JsonProperty member) =>
        member.NameEquals("createdAt"u8) || member.NameEquals("modifiedAt"u8) || member.NameEquals("deletedAt"u8) || member.NameEquals("expiresAt"u8);

    /// <summary><see cref="Attr.Type"/> of a stored instance; the common types without a string per instance.</summary>
    private static string StoredType(JsonElement instance)
    {
        if (!instance.TryGetProperty("type"u8, out var type) || type.ValueKind != JsonValueKind.String) return Attr.Property;
        return type.ValueEquals("Property"u8) ? Attr.Property
            : type.ValueEquals("GeoProperty"u8) ? Attr.GeoProperty
            : type.ValueEquals("Relationship"u8) ? Attr.Relationship
            : type.GetString()!;
    }

    private static string? StringMember(JsonElement instance, ReadOnlySpan<byte> name) =>
        instance.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static JsonElement? Member(JsonElement instance, string name) =>
        instance.TryGetProperty(name, out var value) ? value : null;

    /// <summary>A member that is absent, or JSON null, is written as null, as a missing <see cref="JsonNode"/> is.</summary>
    private static void WriteElement(Utf8JsonWriter writer, JsonElement? element)
    {
        if (element is { } e) e.WriteTo(writer);
        else writer.WriteNullValue();
    }

    private static bool IsUnambiguousBareValue(JsonElement? value) => value switch
    {
        { ValueKind: JsonValueKind.Object } o => !LooksLikeGeometry(o) && !o.EnumerateObject().Any(p => Attr.ConciseKind.ContainsKey(p.Name) || p.NameEquals("type"u8)),
        { ValueKind: JsonValueKind.Array } a => !a.EnumerateArray().Any(e => e.ValueKind == JsonValueKind.Object),
        _ => true,
    };

    private static bool LooksLikeGeometry(JsonElement? node) =>
        node is { ValueKind: JsonValueKind.Object } o && o.TryGetProperty("type"u8, out var t) && t.ValueKind == JsonValueKind.String
        && Model.GeoJson.GeometryTypes.Contains(t.GetString()!) && (o.TryGetProperty("coordinates"u8, out _) || o.TryGetProperty("geometries"u8, out _));
}
