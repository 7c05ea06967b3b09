using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Model;
using static Kontext.Ngsi.Formats.AttributeRepresentation;

namespace Kontext.Ngsi.Formats;

/// <summary>
/// The same representations written from a <see cref="StoredEntity"/>: the instances are read as the stored document's
/// bytes (<see cref="StoredElement"/>), so neither a <see cref="JsonDocument"/> nor a <see cref="JsonObject"/> is built for them. It covers what a plain Retrieve Entity asks for
/// (<see cref="CoversStored"/>); the output is the same, byte for byte, as the <see cref="Entity"/> path's: both walks
/// ask <see cref="AttributeRepresentation"/> what to write, and differ only in the JSON they read.
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
        if (fields.ShowsEntityMembers(entity.Types, entity.Scopes)) return false;
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
            writer.WritePropertyName(context.CompactIri(attribute.Iri));
            WriteInstances(writer, new StoredInstances(this, entity, attribute));
        }
        EndEntity(writer, bodyContext);
    }

    private readonly struct StoredInstances(EntityRenderer renderer, StoredEntity entity, StoredAttribute attribute) : IShownInstances
    {
        public int Count => attribute.Count;
        public string? DatasetId(int index) => StringMember(this[index].Members, DatasetIdUtf8);
        public void Write(Utf8JsonWriter writer, int index, bool inArray) => renderer.WriteStoredAttribute(writer, entity, this[index], inArray);
        public void WriteSimplified(Utf8JsonWriter writer, int index) => renderer.WriteStoredSimplified(writer, this[index].Members);
        private StoredInstance this[int index] => entity.InstancesOf(attribute)[index];
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
    private void WriteStoredSimplified(Utf8JsonWriter writer, StoredElement instance)
    {
        var type = StoredType(instance);
        var payload = Member(instance, PayloadMemberUtf8Of(type));
        switch (SimplifiedOf(type))
        {
            case Simplified.Wrapped:
                var member = PayloadMemberOf(type);
                writer.WriteStartObject();
                writer.WritePropertyName(member);
                if (RoleOf(member) == MemberRole.Vocabulary) WriteStoredVocab(writer, payload);
                else WriteElement(writer, payload);
                writer.WriteEndObject();
                return;
            case Simplified.ObjectList when payload is { Kind: JsonValueKind.Array } list:
                writer.WriteStartArray();
                foreach (var item in list.EnumerateArray())
                    WriteElement(writer, item.Kind == JsonValueKind.Object ? Member(item, ObjectUtf8) : item);
                writer.WriteEndArray();
                return;
            default: // a Relationship's object is written as it is, as the Entity path writes its string
                WriteElement(writer, payload);
                return;
        }
    }

    /// <summary><see cref="WriteConcise"/> over the stored instance; <paramref name="stored"/> brings its trailing times.</summary>
    private void WriteStoredConcise(Utf8JsonWriter writer, StoredElement instance, StoredEntity entity, StoredInstance? stored, bool inArray)
    {
        // The trailing times are system times that follow the members.
        var keepsObjectForm = stored is { HasTimes: true } && KeepsObjectForm(MemberRole.SystemTime, options.SysAttrs);
        if (!keepsObjectForm)
        {
            foreach (var member in instance.EnumerateObject())
                if (KeepsObjectForm(member, options.SysAttrs)) { keepsObjectForm = true; break; }
        }
        var value = Member(instance, ValueUtf8);
        switch (ConciseOf(StoredType(instance), keepsObjectForm, inArray, value, IsGeometry, ReadsAsAttribute))
        {
            case Concise.Bare: WriteElement(writer, value); break;
            case Concise.Typed: WriteStoredNormalized(writer, instance, entity, stored, concise: false); break;
            default: WriteStoredNormalized(writer, instance, entity, stored, concise: true); break;
        }
    }

    /// <summary><see cref="WriteNormalized"/> without a language choice or a join.</summary>
    private void WriteStoredNormalized(Utf8JsonWriter writer, StoredElement instance, StoredEntity entity, StoredInstance? stored, bool concise)
    {
        writer.WriteStartObject();
        if (!concise) writer.WriteString(TypeMember, StoredType(instance));
        foreach (var member in instance.EnumerateObject())
        {
            var role = RoleOf(member, out var name);
            if (!WritesInPlace(role, options.SysAttrs)) continue;
            switch (role)
            {
                case MemberRole.Vocabulary:
                    writer.WritePropertyName(name);
                    WriteStoredVocab(writer, member.Value);
                    break;
                case MemberRole.SubAttribute:
                    writer.WritePropertyName(context.CompactIri(name));
                    if (member.Value.Kind != JsonValueKind.Object) member.Value.WriteTo(writer);
                    else if (options.Format == RenderFormat.Concise) WriteStoredConcise(writer, member.Value, entity, stored: null, inArray: false);
                    else WriteStoredNormalized(writer, member.Value, entity, stored: null, concise: false);
                    break;
                default:
                    member.WriteTo(writer);
                    break;
            }
        }
        // The times the stored form keeps outside the instance were its last two members.
        if (stored is { HasTimes: true } timed && WritesInPlace(MemberRole.SystemTime, options.SysAttrs))
        {
            writer.WriteString(CreatedAtMember, entity.Time(timed.Created));
            writer.WriteString(ModifiedAtMember, entity.Time(timed.Modified));
        }
        writer.WriteEndObject();
    }

    private void WriteStoredVocab(Utf8JsonWriter writer, StoredElement? value)
    {
        switch (value)
        {
            case { Kind: JsonValueKind.String } iri:
                writer.WriteStringValue(context.CompactIri(iri.GetString()!));
                break;
            case { Kind: JsonValueKind.Array } list:
                writer.WriteStartArray();
                foreach (var item in list.EnumerateArray()) WriteStoredVocab(writer, item);
                writer.WriteEndArray();
                break;
            default:
                WriteElement(writer, value);
                break;
        }
    }

    /// <summary><see cref="Attr.Type"/> of a stored instance; the attribute types without a string per instance.</summary>
    private static string StoredType(StoredElement instance)
    {
        if (!instance.TryGetMember(TypeUtf8, out var type) || type.Kind != JsonValueKind.String) return Attr.Property;
        return Attr.KnownType(type) ?? type.GetString();
    }

    private static string? StringMember(StoredElement instance, ReadOnlySpan<byte> name) =>
        instance.TryGetMember(name, out var value) && value.Kind == JsonValueKind.String ? value.GetString() : null;

    private static StoredElement? Member(StoredElement instance, ReadOnlySpan<byte> name) =>
        instance.TryGetMember(name, out var value) ? value : null;

    /// <summary>A member that is absent, or JSON null, is written as null, as a missing <see cref="JsonNode"/> is.</summary>
    private static void WriteElement(Utf8JsonWriter writer, StoredElement? element)
    {
        if (element is { } e) e.WriteTo(writer);
        else writer.WriteNullValue();
    }
}
