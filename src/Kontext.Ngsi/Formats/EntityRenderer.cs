using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;

namespace Kontext.Ngsi.Formats;

/// <summary>
/// Writes expanded entities straight to a <see cref="Utf8JsonWriter"/>, compacted with the caller's context,
/// in the normalized, concise or simplified (keyValues) representation (clause 4.5), with the linked entities of an
/// inline join inside their Relationships (clause 4.5.23).
/// </summary>
public sealed partial class EntityRenderer(JsonLdContext context, RenderOptions options)
{
    /// <summary>Where an inline join stands while an attribute is written: the projection of the linked entities and their hop.</summary>
    private sealed record Inline(Projection Projection, int Hop);

    public void WriteEntity(Utf8JsonWriter writer, Entity entity, JsonNode? bodyContext = null) =>
        WriteEntity(writer, entity, options.Fields, hop: 0, bodyContext);

    /// <summary>Writes an entity with its own projection (a linked entity of a flat join).</summary>
    public void WriteEntity(Utf8JsonWriter writer, Entity entity, Projection projection, JsonNode? bodyContext = null) =>
        WriteEntity(writer, entity, projection, hop: 0, bodyContext);

    private void WriteEntity(Utf8JsonWriter writer, Entity entity, Projection projection, int hop, JsonNode? bodyContext)
    {
        writer.WriteStartObject();
        WriteMembers(writer, entity, projection, includeId: true, hop);
        if (bodyContext is not null)
        {
            writer.WritePropertyName("@context");
            bodyContext.WriteTo(writer);
        }
        writer.WriteEndObject();
    }

    /// <summary>The entity's members without the enclosing braces (GeoJSON puts them under "properties").</summary>
    public void WriteMembers(Utf8JsonWriter writer, Entity entity, bool includeId = true) =>
        WriteMembers(writer, entity, options.Fields, includeId, hop: 0);

    /// <summary>The entity's members with its own projection (a linked entity of a flat join).</summary>
    public void WriteMembers(Utf8JsonWriter writer, Entity entity, Projection projection, bool includeId) =>
        WriteMembers(writer, entity, projection, includeId, hop: 0);

    private void WriteMembers(Utf8JsonWriter writer, Entity entity, Projection fields, bool includeId, int hop)
    {
        if (includeId && fields.Id) writer.WriteString("id", entity.Id);
        WriteEntityMembers(writer, fields, entity.Types, entity.Scopes, entity.CreatedAt, entity.ModifiedAt, entity.ExpiresAt);
        var joined = options.Joined;
        foreach (var (iri, all) in entity.Attributes)
        {
            var instances = fields.ShownInstances(iri, all);
            if (instances.Count == 0) continue;
            var inline = joined is { Mode: JoinMode.Inline } && hop < joined.Level ? new Inline(fields.LinkedFor(iri), hop + 1) : null;
            writer.WritePropertyName(context.CompactIri(iri));
            if (instances.Count == 1) WriteAttribute(writer, instances[0], inArray: false, inline);
            else if (options.Format == RenderFormat.KeyValues) WriteDatasetMap(writer, instances, inline);
            else
            {
                writer.WriteStartArray();
                for (var i = 0; i < instances.Count; i++) WriteAttribute(writer, instances[i], inArray: true, inline);
                writer.WriteEndArray();
            }
        }
    }

    /// <summary>The members after the id: type, scope and, with sysAttrs, the entity's system times.</summary>
    private void WriteEntityMembers(Utf8JsonWriter writer, Projection fields, List<string> types, List<string>? scopes,
        DateTimeOffset createdAt, DateTimeOffset modifiedAt, DateTimeOffset? expiresAt)
    {
        if (fields.Type && types.Count > 0) WriteTypes(writer, "type", types);
        if (fields.Scope && scopes is { Count: > 0 })
        {
            if (scopes.Count == 1) writer.WriteString("scope", scopes[0]);
            else
            {
                writer.WriteStartArray("scope");
                foreach (var s in scopes) writer.WriteStringValue(s);
                writer.WriteEndArray();
            }
        }
        // Entity-level system attributes have a place in every representation; attribute-level ones not in keyValues.
        if (options.SysAttrs)
        {
            writer.WriteString("createdAt", Validate.Format(createdAt));
            writer.WriteString("modifiedAt", Validate.Format(modifiedAt));
            // Whole seconds as the client most likely wrote them; an instance's expiresAt is kept as written anyway.
            if (expiresAt is { } expires)
                writer.WriteString("expiresAt", expires.Ticks % TimeSpan.TicksPerSecond == 0
                    ? expires.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture)
                    : Validate.Format(expires));
        }
    }

    /// <summary>One attribute instance as an element of an instance array (the temporal representation, clause 4.5.7).</summary>
    public void WriteInstance(Utf8JsonWriter writer, JsonObject instance) => WriteAttribute(writer, instance, inArray: true, inline: null);

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

    private void WriteAttribute(Utf8JsonWriter writer, JsonObject instance, bool inArray, Inline? inline)
    {
        switch (options.Format)
        {
            case RenderFormat.KeyValues: WriteSimplified(writer, instance, inline); break;
            case RenderFormat.Concise: WriteConcise(writer, instance, inArray, inline); break;
            default: WriteNormalized(writer, instance, concise: false, inline); break;
        }
    }

    /// <summary>A multi-attribute in the simplified representation (clause 4.5.4): its values by datasetId, "@none" for the default instance.</summary>
    private void WriteDatasetMap(Utf8JsonWriter writer, IReadOnlyList<JsonObject> instances, Inline? inline)
    {
        writer.WriteStartObject();
        writer.WriteStartObject("dataset");
        for (var i = 0; i < instances.Count; i++)
        {
            var instance = instances[i];
            writer.WritePropertyName(Attr.DatasetId(instance) ?? Projection.DefaultInstance);
            WriteSimplified(writer, instance, inline);
        }
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>
    /// The simplified value (clause 4.5.4): a Property's value, a Relationship's object, the lists of ListProperty and
    /// ListRelationship; LanguageProperty, JsonProperty and VocabProperty keep their payload member name
    /// ({"languageMap": …}, {"json": …}, {"vocab": …}) so they read back as what they are. With lang, a LanguageProperty
    /// gives the chosen string. An inline join puts the linked entity in place of the object.
    /// </summary>
    /// <summary>One attribute instance's simplified value, as the temporal representation's [value, time] pairs hold it.</summary>
    internal void WriteSimplifiedValue(Utf8JsonWriter writer, JsonObject instance) => WriteSimplified(writer, instance, inline: null);

    private void WriteSimplified(Utf8JsonWriter writer, JsonObject instance, Inline? inline)
    {
        var type = Attr.Type(instance);
        var payload = Attr.Payload(instance);
        switch (type)
        {
            case Attr.LanguageProperty when options.Lang is not null && payload is JsonObject map:
                WriteNode(writer, options.Lang.Choose(map).Value);
                return;
            case Attr.LanguageProperty or Attr.JsonProperty:
                writer.WriteStartObject();
                writer.WritePropertyName(Attr.PayloadMember[type]);
                WriteNode(writer, payload);
                writer.WriteEndObject();
                return;
            case Attr.VocabProperty:
                writer.WriteStartObject();
                writer.WritePropertyName("vocab");
                WriteVocab(writer, payload);
                writer.WriteEndObject();
                return;
            case Attr.Relationship when payload is JsonValue v && v.TryGetValue<string>(out var id):
                if (Linked(id, inline) is { } target) WriteEntity(writer, target, inline!.Projection, inline.Hop, null);
                else writer.WriteStringValue(id);
                return;
            case Attr.ListRelationship when payload is JsonArray list:
                writer.WriteStartArray();
                foreach (var item in list)
                {
                    var node = item is JsonObject o ? o["object"] : item;
                    if (node is JsonValue lv && lv.TryGetValue<string>(out var listed) && Linked(listed, inline) is { } linked)
                        WriteEntity(writer, linked, inline!.Projection, inline.Hop, null);
                    else WriteNode(writer, node);
                }
                writer.WriteEndArray();
                return;
            default:
                WriteNode(writer, payload);
                return;
        }
    }

    private void WriteConcise(Utf8JsonWriter writer, JsonObject instance, bool inArray, Inline? inline)
    {
        var type = Attr.Type(instance);
        var hasExtras = instance.Any(p => p.Key != "type" && p.Key != "value" && (options.SysAttrs || p.Key is not ("createdAt" or "modifiedAt" or "expiresAt" or "deletedAt")));
        if (!hasExtras && !inArray && (type == Attr.GeoProperty || type == Attr.Property && IsUnambiguousBareValue(instance["value"])))
        {
            WriteNode(writer, instance["value"]);
            return;
        }
        // A Property holding a geometry keeps its type: without it the reader would take it for a GeoProperty.
        var keepType = type == Attr.Property && Model.GeoJson.LooksLikeGeometry(instance["value"]);
        WriteNormalized(writer, instance, concise: !keepType, inline);
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

    private void WriteNormalized(Utf8JsonWriter writer, JsonObject instance, bool concise, Inline? inline = null)
    {
        writer.WriteStartObject();
        var type = Attr.Type(instance);
        var chooseLanguage = type == Attr.LanguageProperty && options.Lang is not null && instance["languageMap"] is JsonObject;
        if (!concise) writer.WriteString("type", chooseLanguage ? Attr.Property : type);
        for (var i = 0; i < instance.Count; i++) // by index: no enumerator per instance
        {
            var (member, value) = instance.GetAt(i);
            switch (member)
            {
                case "type":
                    break;
                // expiresAt is shown like the system times (clause 4.22 with 6.3.11): only with options=sysAttrs.
                case "createdAt" or "modifiedAt" or "deletedAt" or "expiresAt":
                    if (options.SysAttrs) { writer.WritePropertyName(member); WriteNode(writer, value); }
                    break;
                case "languageMap" when chooseLanguage:
                    var (tag, chosen) = options.Lang!.Choose((JsonObject)value!);
                    writer.WritePropertyName("value");
                    WriteNode(writer, chosen);
                    if (tag != "@none") writer.WriteString("lang", tag);
                    break;
                case "vocab" or "previousVocab":
                    writer.WritePropertyName(member);
                    WriteVocab(writer, value);
                    break;
                case "objectType" or "entityTypeSealed":
                    writer.WritePropertyName(member);
                    WriteVocab(writer, value);
                    break;
                default:
                    if (Attr.IsSubAttribute(member))
                    {
                        writer.WritePropertyName(context.CompactIri(member));
                        if (value is JsonObject sub)
                        {
                            if (options.Format == RenderFormat.Concise) WriteConcise(writer, sub, inArray: false, inline: null);
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
        if (inline is not null) WriteInlineEntities(writer, instance, type, inline);
        writer.WriteEndObject();
    }

    /// <summary>The linked entity of a Relationship ("entity") or those of a ListRelationship ("entityList"), clause 4.5.23.</summary>
    private void WriteInlineEntities(Utf8JsonWriter writer, JsonObject instance, string type, Inline inline)
    {
        var targets = LinkedEntities.Objects(instance).Select(id => Linked(id, inline)).OfType<Entity>().ToList();
        if (targets.Count == 0) return;
        if (type == Attr.ListRelationship)
        {
            writer.WriteStartArray("entityList");
            foreach (var target in targets) WriteEntity(writer, target, inline.Projection, inline.Hop, null);
            writer.WriteEndArray();
        }
        else
        {
            writer.WritePropertyName("entity");
            WriteEntity(writer, targets[0], inline.Projection, inline.Hop, null);
        }
    }

    private Entity? Linked(string id, Inline? inline) => inline is null ? null : options.Joined?.Find(id);

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
