using System.Collections.Frozen;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Model;

namespace Kontext.Ngsi.Formats;

/// <summary>
/// How an attribute is represented (clause 4.5), decided once for both inputs of <see cref="EntityRenderer"/>: an
/// <see cref="Entity"/>'s <see cref="JsonObject"/> instances and a <see cref="StoredEntity"/>'s stored elements. The
/// renderer walks each kind of JSON; what a member is, which members each representation writes, what keyValues makes
/// of each attribute type and when a concise attribute is its bare value are asked here. The names have UTF-8 forms
/// for the stored walk, which compares names without making a string of them.
/// </summary>
internal static class AttributeRepresentation
{
    public const string TypeMember = "type";
    public const string ValueMember = "value";
    public const string ObjectMember = "object";
    public const string DatasetIdMember = "datasetId";
    public const string CreatedAtMember = "createdAt";
    public const string ModifiedAtMember = "modifiedAt";
    public const string ExpiresAtMember = "expiresAt";

    public static readonly byte[] ValueUtf8 = Utf8(ValueMember);
    public static readonly byte[] ObjectUtf8 = Utf8(ObjectMember);
    public static readonly byte[] DatasetIdUtf8 = Utf8(DatasetIdMember);

    /// <summary>What a member of an attribute instance is to the normalized and concise representations.</summary>
    public enum MemberRole
    {
        /// <summary>The attribute type: written first (not at all in concise), never where it stands.</summary>
        Type,
        /// <summary>"value": written as it is, and the one member a concise attribute may stand for (its bare value).</summary>
        Value,
        /// <summary>Another core member written as it is (object, observedAt, unitCode, datasetId, the list payloads, …).</summary>
        Core,
        /// <summary>"languageMap": written as it is, or as the chosen language's value when the request picks one.</summary>
        LanguageMap,
        /// <summary>createdAt, modifiedAt, deletedAt and expiresAt (clause 4.22 with 6.3.11): written only with sysAttrs.</summary>
        SystemTime,
        /// <summary>vocab, previousVocab, objectType, entityTypeSealed: IRIs, compacted with the context.</summary>
        Vocabulary,
        /// <summary>Any name not of the core: a sub-attribute, its name compacted, itself represented as an attribute.</summary>
        SubAttribute,
    }

    /// <summary>
    /// The members with a role of their own, and the core members most instances carry, the common ones first: the
    /// stored walk recognizes these without a string of the name. Any other core member (<see cref="Attr.CoreMembers"/>)
    /// is <see cref="MemberRole.Core"/>, any other name a sub-attribute.
    /// </summary>
    private static readonly (string Name, MemberRole Role)[] Named =
    [
        (TypeMember, MemberRole.Type), (ValueMember, MemberRole.Value), ("observedAt", MemberRole.Core), ("unitCode", MemberRole.Core),
        (ObjectMember, MemberRole.Core), (DatasetIdMember, MemberRole.Core),
        (CreatedAtMember, MemberRole.SystemTime), (ModifiedAtMember, MemberRole.SystemTime), ("deletedAt", MemberRole.SystemTime),
        (ExpiresAtMember, MemberRole.SystemTime),
        ("vocab", MemberRole.Vocabulary), ("objectType", MemberRole.Vocabulary), ("previousVocab", MemberRole.Vocabulary),
        ("entityTypeSealed", MemberRole.Vocabulary),
        ("languageMap", MemberRole.LanguageMap), ("json", MemberRole.Core), ("valueList", MemberRole.Core), ("objectList", MemberRole.Core),
    ];

    private static readonly FrozenDictionary<string, MemberRole> RoleByName =
        Named.ToFrozenDictionary(n => n.Name, n => n.Role, StringComparer.Ordinal);
    private static readonly byte[][] NamedUtf8 = [.. Named.Select(n => Utf8(n.Name))];

    public static MemberRole RoleOf(string member) =>
        RoleByName.TryGetValue(member, out var role) ? role : Attr.IsSubAttribute(member) ? MemberRole.SubAttribute : MemberRole.Core;

    /// <summary>The named members' JSON text: a stored walk writes a named member's name without transcoding it.</summary>
    private static readonly JsonEncodedText[] NamedText = [.. Named.Select(n => JsonEncodedText.Encode(n.Name))];

    /// <summary>The index of a stored member's name among the named members (<see cref="NamedRole"/>, <see cref="NamedName"/>), or -1.</summary>
    public static int NamedIndex(StoredMember member)
    {
        for (var i = 0; i < NamedUtf8.Length; i++)
            if (member.NameEquals(NamedUtf8[i])) return i;
        return -1;
    }

    public const int TypeIndex = 0, ValueIndex = 1;

    public static MemberRole NamedRole(int index) => Named[index].Role;

    public static JsonEncodedText NamedName(int index) => NamedText[index];

    /// <summary>The role of a member that is not named (<see cref="NamedIndex"/> -1): a sub-attribute or another core member.</summary>
    public static MemberRole UnnamedRole(string name) => Attr.IsSubAttribute(name) ? MemberRole.SubAttribute : MemberRole.Core;

    /// <summary><see cref="KeepsObjectForm(MemberRole, bool)"/> of a stored member, without reading a name that is not named.</summary>
    public static bool KeepsObjectForm(int namedIndex, bool sysAttrs) =>
        namedIndex < 0 || KeepsObjectForm(Named[namedIndex].Role, sysAttrs); // a core member or a sub-attribute: written in place either way

    /// <summary>Whether the normalized and concise representations write a member where it stands.</summary>
    public static bool WritesInPlace(MemberRole role, bool sysAttrs) => role != MemberRole.Type && (sysAttrs || role != MemberRole.SystemTime);

    /// <summary>Whether a member keeps a concise attribute an object: any member written but the value.</summary>
    public static bool KeepsObjectForm(MemberRole role, bool sysAttrs) => role != MemberRole.Value && WritesInPlace(role, sysAttrs);

    /// <summary>
    /// What the simplified representation (clause 4.5.4) writes of an attribute type: a Property's value, a Relationship's
    /// object, the lists of ListProperty and ListRelationship; LanguageProperty, JsonProperty and VocabProperty keep their
    /// payload member name ({"languageMap": …}, {"json": …}, {"vocab": …}) so they read back as what they are.
    /// </summary>
    public enum Simplified
    {
        /// <summary>The payload (<see cref="PayloadMemberOf"/>) as it is.</summary>
        Payload,
        /// <summary>The Relationship's object, or the linked entity an inline join puts in its place.</summary>
        Object,
        /// <summary>The ListRelationship's objects: each item's "object", or the item itself.</summary>
        ObjectList,
        /// <summary>{payload member: payload}, the payload written as that member is in the normalized form.</summary>
        Wrapped,
    }

    public static Simplified SimplifiedOf(string type) => type switch
    {
        Attr.Relationship => Simplified.Object,
        Attr.ListRelationship => Simplified.ObjectList,
        Attr.LanguageProperty or Attr.JsonProperty or Attr.VocabProperty => Simplified.Wrapped,
        _ => Simplified.Payload,
    };

    /// <summary>The member holding an attribute type's payload (value for an unknown type).</summary>
    public static string PayloadMemberOf(string type) => Attr.PayloadMember.GetValueOrDefault(type, ValueMember);

    /// <summary><see cref="PayloadMemberOf"/> in UTF-8, for the stored walk.</summary>
    public static byte[] PayloadMemberUtf8Of(string type) => PayloadMembersUtf8.GetValueOrDefault(type, ValueUtf8);

    private static readonly FrozenDictionary<string, byte[]> PayloadMembersUtf8 =
        Attr.PayloadMember.ToFrozenDictionary(p => p.Key, p => Utf8(p.Value), StringComparer.Ordinal);

    /// <summary>How the concise representation (clause 4.5.3) writes an attribute instance.</summary>
    public enum Concise
    {
        /// <summary>Its value alone.</summary>
        Bare,
        /// <summary>An object without its type, which the payload member implies.</summary>
        Untyped,
        /// <summary>An object with its type: a Property holding a geometry, which without it would read as a GeoProperty.</summary>
        Typed,
    }

    /// <summary>
    /// A GeoProperty stands as its value, and so does a Property whose value reads back as the same Property (not a
    /// geometry, not <paramref name="readsAsAttribute"/>), when nothing else of it is written
    /// (<paramref name="keepsObjectForm"/>) and it is not an element of a multi-attribute array.
    /// </summary>
    /// <param name="isGeometry">Whether the value is a GeoJSON geometry, which alone reads back as a GeoProperty.</param>
    /// <param name="readsAsAttribute">Whether the value, not a geometry, would read back as something else alone.</param>
    public static Concise ConciseOf<TValue>(string type, bool keepsObjectForm, bool inArray, TValue value,
        Func<TValue, bool> isGeometry, Func<TValue, bool> readsAsAttribute)
    {
        var alone = !keepsObjectForm && !inArray;
        if (type == Attr.GeoProperty) return alone ? Concise.Bare : Concise.Untyped;
        if (type != Attr.Property) return Concise.Untyped;
        if (isGeometry(value)) return Concise.Typed;
        return alone && !readsAsAttribute(value) ? Concise.Bare : Concise.Untyped;
    }

    public static bool IsGeometry(JsonNode? value) => GeoJson.LooksLikeGeometry(value);

    public static bool IsGeometry(StoredElement? value) => value is { } element && GeoJson.LooksLikeGeometry(element);

    /// <summary>An object carrying attribute members (type, value, object, …), or an array holding an object.</summary>
    public static bool ReadsAsAttribute(JsonNode? value)
    {
        switch (value)
        {
            case JsonObject o:
                for (var i = 0; i < o.Count; i++)
                    if (IsAttributeMember(o.GetAt(i).Key)) return true;
                return false;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                    if (a[i] is JsonObject) return true;
                return false;
            default:
                return false;
        }
    }

    public static bool ReadsAsAttribute(StoredElement? value)
    {
        switch (value)
        {
            case { Kind: JsonValueKind.Object } o:
                foreach (var member in o.EnumerateObject())
                    foreach (var name in AttributeMembersUtf8)
                        if (member.NameEquals(name)) return true;
                return false;
            case { Kind: JsonValueKind.Array } a:
                foreach (var item in a.EnumerateArray())
                    if (item.Kind == JsonValueKind.Object) return true;
                return false;
            default:
                return false;
        }
    }

    /// <summary>A member that makes a value object read as an attribute: the type, or a payload member of the concise form.</summary>
    private static bool IsAttributeMember(string name) => name == TypeMember || Attr.ConciseKind.ContainsKey(name);

    private static readonly byte[][] AttributeMembersUtf8 = [Utf8(TypeMember), .. Attr.ConciseKind.Keys.Select(Utf8)];

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}
