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
        if (fields.Id) writer.WriteString(IdText, entity.Id);
        WriteEntityMembers(writer, fields, entity.Types, entity.Scopes, entity.CreatedAt, entity.ModifiedAt, entity.ExpiresAt);
        foreach (var attribute in entity.Attributes)
        {
            if (attribute.Count == 0 || !fields.IncludesAttribute(attribute.Iri)) continue;
            WriteCompactedName(writer, attribute.Iri);
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
            default: WriteStoredNormalized(writer, instance.Members, entity, instance); break;
        }
    }

    /// <summary>
    /// What one walk over a stored instance's members finds: its attribute type (<see cref="Attr.Type"/>: Property when
    /// it has none), its first "value" member, whether a member but the value keeps a concise attribute an object, and
    /// how many members it kept with their <see cref="NamedIndex"/> (-1: more than the room given, walk them again).
    /// The representations ask these before they write; the stored form puts the type last.
    /// </summary>
    private readonly record struct Shape(string Type, StoredElement? Value, bool KeepsObjectForm, int Kept);

    /// <summary>Room for the members of an instance on the stack, so it is walked once (bench instances have 4 or 5).</summary>
    [System.Runtime.CompilerServices.InlineArray(Capacity)]
    private struct Members
    {
        public const int Capacity = 12;
        private StoredMember _first;
    }

    /// <param name="stored">Brings the instance's trailing times, which keep a concise attribute an object with sysAttrs.</param>
    /// <param name="members">Where the members are kept, in order, with their <see cref="NamedIndex"/> in <paramref name="named"/>.</param>
    private Shape StoredShape(StoredElement instance, StoredInstance? stored, Span<StoredMember> members, Span<sbyte> named)
    {
        StoredElement? type = null, value = null;
        var keepsObjectForm = stored is { HasTimes: true } && KeepsObjectForm(MemberRole.SystemTime, options.SysAttrs);
        var kept = 0;
        foreach (var member in instance.EnumerateObject())
        {
            var index = NamedIndex(member);
            if (index == TypeIndex) type ??= member.Value;
            else if (index == ValueIndex) value ??= member.Value;
            keepsObjectForm = keepsObjectForm || KeepsObjectForm(index, options.SysAttrs);
            if (kept < members.Length)
            {
                members[kept] = member;
                named[kept] = (sbyte)index;
            }
            kept++;
        }
        var typeName = type is { Kind: JsonValueKind.String } t ? Attr.KnownType(t) ?? t.GetString() : Attr.Property;
        return new Shape(typeName, value, keepsObjectForm, kept <= members.Length ? kept : -1);
    }

    /// <summary><see cref="WriteSimplified"/> without a language choice or a join.</summary>
    private void WriteStoredSimplified(Utf8JsonWriter writer, StoredElement instance)
    {
        var shape = StoredShape(instance, stored: null, members: default, named: default);
        var type = shape.Type;
        var member = PayloadMemberOf(type);
        var payload = member == ValueMember ? shape.Value : Member(instance, PayloadMemberUtf8Of(type));
        switch (SimplifiedOf(type))
        {
            case Simplified.Wrapped:
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
        var members = new Members();
        Span<sbyte> named = stackalloc sbyte[Members.Capacity];
        var shape = StoredShape(instance, stored, members, named);
        switch (ConciseOf(shape.Type, shape.KeepsObjectForm, inArray, shape.Value, IsGeometry, ReadsAsAttribute))
        {
            case Concise.Bare: WriteElement(writer, shape.Value); break;
            case Concise.Typed: WriteStoredNormalized(writer, instance, shape, members, named, entity, stored, concise: false); break;
            default: WriteStoredNormalized(writer, instance, shape, members, named, entity, stored, concise: true); break;
        }
    }

    private void WriteStoredNormalized(Utf8JsonWriter writer, StoredElement instance, StoredEntity entity, StoredInstance? stored)
    {
        var members = new Members();
        Span<sbyte> named = stackalloc sbyte[Members.Capacity];
        var shape = StoredShape(instance, stored, members, named);
        WriteStoredNormalized(writer, instance, shape, members, named, entity, stored, concise: false);
    }

    /// <summary><see cref="WriteNormalized"/> without a language choice or a join, from the instance's <see cref="Shape"/> and kept members.</summary>
    private void WriteStoredNormalized(Utf8JsonWriter writer, StoredElement instance, in Shape shape, ReadOnlySpan<StoredMember> members,
        ReadOnlySpan<sbyte> named, StoredEntity entity, StoredInstance? stored, bool concise)
    {
        writer.WriteStartObject();
        if (!concise) writer.WriteString(NamedName(TypeIndex), shape.Type);
        if (shape.Kept >= 0)
        {
            for (var i = 0; i < shape.Kept; i++) WriteStoredMember(writer, members[i], named[i], entity);
        }
        else
        {
            foreach (var member in instance.EnumerateObject()) WriteStoredMember(writer, member, NamedIndex(member), entity);
        }
        // The times the stored form keeps outside the instance were its last two members.
        if (stored is { HasTimes: true } timed && WritesInPlace(MemberRole.SystemTime, options.SysAttrs))
        {
            writer.WriteString(CreatedAtText, entity.Time(timed.Created));
            writer.WriteString(ModifiedAtText, entity.Time(timed.Modified));
        }
        writer.WriteEndObject();
    }

    /// <summary>One member of a normalized or concise instance, where it stands (if it is written there at all).</summary>
    /// <param name="named">The member's <see cref="NamedIndex"/>.</param>
    private void WriteStoredMember(Utf8JsonWriter writer, StoredMember member, int named, StoredEntity entity)
    {
        var name = named < 0 ? member.Name : null;
        var role = named < 0 ? UnnamedRole(name!) : NamedRole(named);
        if (!WritesInPlace(role, options.SysAttrs)) return;
        switch (role)
        {
            case MemberRole.Vocabulary:
                writer.WritePropertyName(NamedName(named));
                WriteStoredVocab(writer, member.Value);
                break;
            case MemberRole.SubAttribute:
                WriteCompactedName(writer, name!);
                if (member.Value.Kind != JsonValueKind.Object) member.Value.WriteTo(writer);
                else if (options.Format == RenderFormat.Concise) WriteStoredConcise(writer, member.Value, entity, stored: null, inArray: false);
                else WriteStoredNormalized(writer, member.Value, entity, stored: null);
                break;
            default:
                if (named < 0) member.WriteTo(writer);
                else
                {
                    writer.WritePropertyName(NamedName(named));
                    member.Value.WriteTo(writer);
                }
                break;
        }
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
