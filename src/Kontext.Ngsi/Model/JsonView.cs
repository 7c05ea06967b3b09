using System.Text.Json;

namespace Kontext.Ngsi.Model;

/// <summary>
/// A JSON value read where it stands, as a rule over JSON asks it: its kind, a member by its UTF-8 name, whether it is a
/// string of a given text. A rule written over this (<see cref="GeoJson.LooksLikeGeometry(JsonElement)"/>) is written
/// once for a parsed <see cref="JsonElement"/> (<see cref="ParsedJson"/>) and a <see cref="StoredElement"/>, and gives
/// both the same answer.
/// </summary>
internal interface IJsonView<TSelf> where TSelf : struct, IJsonView<TSelf>
{
    JsonValueKind Kind { get; }

    /// <summary>The member of that (unescaped) name.</summary>
    bool TryGetMember(ReadOnlySpan<byte> name, out TSelf value);

    /// <summary>Whether this is a string whose (unescaped) text is <paramref name="utf8"/>; false for any other kind.</summary>
    bool ValueEquals(ReadOnlySpan<byte> utf8);
}

/// <summary>A <see cref="JsonElement"/> as an <see cref="IJsonView{TSelf}"/>.</summary>
internal readonly struct ParsedJson(JsonElement element) : IJsonView<ParsedJson>
{
    public JsonValueKind Kind => element.ValueKind;

    public bool TryGetMember(ReadOnlySpan<byte> name, out ParsedJson value)
    {
        var found = element.TryGetProperty(name, out var member);
        value = new ParsedJson(member);
        return found;
    }

    public bool ValueEquals(ReadOnlySpan<byte> utf8) => element.ValueKind == JsonValueKind.String && element.ValueEquals(utf8);
}
