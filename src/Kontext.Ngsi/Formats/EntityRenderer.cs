using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using static Kontext.Ngsi.Formats.AttributeRepresentation;

namespace Kontext.Ngsi.Formats;

/// <summary>
/// Writes expanded entities straight to a <see cref="Utf8JsonWriter"/>, compacted with the caller's context,
/// in the normalized, concise or simplified (keyValues) representation (clause 4.5), with the linked entities of an
/// inline join inside their Relationships (clause 4.5.23). What each representation makes of an attribute is decided in
/// <see cref="AttributeRepresentation"/>, for this walk of <see cref="JsonObject"/> instances and for the stored one.
/// </summary>
public sealed partial class EntityRenderer(JsonLdContext context, RenderOptions options)
{
    // Member names written for every entity or instance, encoded once.
    private static readonly JsonEncodedText IdText = JsonEncodedText.Encode("id");
    private static readonly JsonEncodedText CreatedAtText = JsonEncodedText.Encode(CreatedAtMember);
    private static readonly JsonEncodedText ModifiedAtText = JsonEncodedText.Encode(ModifiedAtMember);

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
        EndEntity(writer, bodyContext);
    }

    /// <summary>The body's @context when the answer carries it (JSON-LD), and the entity's closing brace.</summary>
    private static void EndEntity(Utf8JsonWriter writer, JsonNode? bodyContext)
    {
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
        if (includeId && fields.Id) writer.WriteString(IdText, entity.Id);
        WriteEntityMembers(writer, fields, entity.Types, entity.Scopes, entity.CreatedAt, entity.ModifiedAt, entity.ExpiresAt);
        var joined = options.Joined;
        foreach (var (iri, all) in entity.Attributes)
        {
            var instances = fields.ShownInstances(iri, all);
            if (instances.Count == 0) continue;
            var inline = joined is { Mode: JoinMode.Inline } && hop < joined.Level ? new Inline(fields.LinkedFor(iri), hop + 1) : null;
            WriteCompactedName(writer, iri);
            WriteInstances(writer, new EntityInstances(this, instances, inline));
        }
    }

    /// <summary>One attribute's shown instances as a walk holds them, for <see cref="WriteInstances{T}"/>.</summary>
    private interface IShownInstances
    {
        int Count { get; }
        string? DatasetId(int index);
        void Write(Utf8JsonWriter writer, int index, bool inArray);
        void WriteSimplified(Utf8JsonWriter writer, int index);
    }

    /// <summary>
    /// An attribute's instances: one is the attribute itself; several are an array of them, or in keyValues their values
    /// by datasetId (clause 4.5.4: {"dataset": {datasetId or "@none": value}}).
    /// </summary>
    private void WriteInstances<T>(Utf8JsonWriter writer, in T instances) where T : struct, IShownInstances
    {
        if (instances.Count == 1) instances.Write(writer, 0, inArray: false);
        else if (options.Format == RenderFormat.KeyValues)
        {
            writer.WriteStartObject();
            writer.WriteStartObject("dataset");
            for (var i = 0; i < instances.Count; i++)
            {
                writer.WritePropertyName(instances.DatasetId(i) ?? Projection.DefaultInstance);
                instances.WriteSimplified(writer, i);
            }
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        else
        {
            writer.WriteStartArray();
            for (var i = 0; i < instances.Count; i++) instances.Write(writer, i, inArray: true);
            writer.WriteEndArray();
        }
    }

    private readonly struct EntityInstances(EntityRenderer renderer, IReadOnlyList<JsonObject> instances, Inline? inline) : IShownInstances
    {
        public int Count => instances.Count;
        public string? DatasetId(int index) => Attr.DatasetId(instances[index]);
        public void Write(Utf8JsonWriter writer, int index, bool inArray) => renderer.WriteAttribute(writer, instances[index], inArray, inline);
        public void WriteSimplified(Utf8JsonWriter writer, int index) => renderer.WriteSimplified(writer, instances[index], inline);
    }

    /// <summary>The members after the id: type, scope and, with sysAttrs, the entity's system times.</summary>
    private void WriteEntityMembers(Utf8JsonWriter writer, Projection fields, List<string> types, List<string>? scopes,
        DateTimeOffset createdAt, DateTimeOffset modifiedAt, DateTimeOffset? expiresAt)
    {
        if (fields.Type && types.Count > 0) WriteTypes(writer, TypeMember, types);
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
            writer.WriteString(CreatedAtText, Validate.Format(createdAt));
            writer.WriteString(ModifiedAtText, Validate.Format(modifiedAt));
            // Whole seconds as the client most likely wrote them; an instance's expiresAt is kept as written anyway.
            if (expiresAt is { } expires)
                writer.WriteString(ExpiresAtMember, expires.Ticks % TimeSpan.TicksPerSecond == 0
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
            writer.WritePropertyName(member);
            if (context.CompactedName(types[0]) is { } text) writer.WriteStringValue(text);
            else writer.WriteStringValue(context.CompactIri(types[0]));
            return;
        }
        writer.WriteStartArray(member);
        foreach (var type in types) writer.WriteStringValue(context.CompactIri(type));
        writer.WriteEndArray();
    }

    /// <summary>An IRI compacted as a property name: its JSON text when the context holds it ready (<see cref="JsonLdContext.CompactedName"/>).</summary>
    private void WriteCompactedName(Utf8JsonWriter writer, string iri)
    {
        if (context.CompactedName(iri) is { } text) writer.WritePropertyName(text);
        else writer.WritePropertyName(context.CompactIri(iri));
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

    /// <summary>One attribute instance's simplified value, as the temporal representation's [value, time] pairs hold it.</summary>
    internal void WriteSimplifiedValue(Utf8JsonWriter writer, JsonObject instance) => WriteSimplified(writer, instance, inline: null);

    /// <summary>
    /// The simplified value (<see cref="AttributeRepresentation.Simplified"/>). With lang, a LanguageProperty gives the
    /// chosen string; an inline join puts the linked entity in place of the object.
    /// </summary>
    private void WriteSimplified(Utf8JsonWriter writer, JsonObject instance, Inline? inline)
    {
        var type = Attr.Type(instance);
        var payload = instance[PayloadMemberOf(type)];
        if (type == Attr.LanguageProperty && options.Lang is not null && payload is JsonObject map)
        {
            WriteNode(writer, options.Lang.Choose(map).Value);
            return;
        }
        switch (SimplifiedOf(type))
        {
            case Simplified.Wrapped:
                writer.WriteStartObject();
                WriteMember(writer, PayloadMemberOf(type), payload);
                writer.WriteEndObject();
                return;
            case Simplified.Object when payload is JsonValue v && v.TryGetValue<string>(out var id):
                if (Linked(id, inline) is { } target) WriteEntity(writer, target, inline!.Projection, inline.Hop, null);
                else writer.WriteStringValue(id);
                return;
            case Simplified.ObjectList when payload is JsonArray list:
                writer.WriteStartArray();
                foreach (var item in list)
                {
                    var node = item is JsonObject o ? o[ObjectMember] : item;
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
        var keepsObjectForm = false;
        for (var i = 0; i < instance.Count && !keepsObjectForm; i++)
            keepsObjectForm = KeepsObjectForm(RoleOf(instance.GetAt(i).Key), options.SysAttrs);
        var value = instance[ValueMember];
        switch (ConciseOf(Attr.Type(instance), keepsObjectForm, inArray, value, IsGeometry, ReadsAsAttribute))
        {
            case Concise.Bare: WriteNode(writer, value); break;
            case Concise.Typed: WriteNormalized(writer, instance, concise: false, inline); break;
            default: WriteNormalized(writer, instance, concise: true, inline); break;
        }
    }

    private void WriteNormalized(Utf8JsonWriter writer, JsonObject instance, bool concise, Inline? inline = null)
    {
        writer.WriteStartObject();
        var type = Attr.Type(instance);
        var chooseLanguage = type == Attr.LanguageProperty && options.Lang is not null && instance[PayloadMemberOf(type)] is JsonObject;
        if (!concise) writer.WriteString(TypeMember, chooseLanguage ? Attr.Property : type);
        for (var i = 0; i < instance.Count; i++) // by index: no enumerator per instance
        {
            var (member, value) = instance.GetAt(i);
            var role = RoleOf(member);
            if (!WritesInPlace(role, options.SysAttrs)) continue;
            switch (role)
            {
                case MemberRole.LanguageMap when chooseLanguage:
                    var (tag, chosen) = options.Lang!.Choose((JsonObject)value!);
                    writer.WritePropertyName(ValueMember);
                    WriteNode(writer, chosen);
                    if (tag != "@none") writer.WriteString("lang", tag);
                    break;
                case MemberRole.SubAttribute:
                    WriteCompactedName(writer, member);
                    if (value is not JsonObject sub) WriteNode(writer, value);
                    else if (options.Format == RenderFormat.Concise) WriteConcise(writer, sub, inArray: false, inline: null);
                    else WriteNormalized(writer, sub, concise: false);
                    break;
                default:
                    WriteMember(writer, member, value, role);
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

    /// <summary>A core member with its value as it is, or with its IRIs compacted (<see cref="MemberRole.Vocabulary"/>).</summary>
    private void WriteMember(Utf8JsonWriter writer, string member, JsonNode? value, MemberRole? role = null)
    {
        writer.WritePropertyName(member);
        if ((role ?? RoleOf(member)) == MemberRole.Vocabulary) WriteVocab(writer, value);
        else WriteNode(writer, value);
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
