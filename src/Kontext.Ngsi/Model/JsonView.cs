using System.Runtime.InteropServices;
using System.Text.Json;

namespace Kontext.Ngsi.Model;

/// <summary>
/// A JSON string read where it stands: a string value, or a member's name (which a <see cref="JsonElement"/> has no
/// element for: <see cref="ParsedName"/>).
/// </summary>
public interface IJsonText
{
    /// <summary>Whether this is a string whose (unescaped) text is <paramref name="utf8"/>; false for any other kind.</summary>
    bool ValueEquals(ReadOnlySpan<byte> utf8);

    /// <summary>A string's text (unescaped).</summary>
    string GetString();

    /// <summary>A string's UTF-8 as it stands between its quotes (escapes not undone), to look it up without a string.</summary>
    ReadOnlySpan<byte> RawText { get; }
}

/// <summary>
/// A JSON value read where it stands, as a rule over JSON asks it: its kind, a member by its UTF-8 name, whether it is a
/// string of a given text, its text or number, an array's items. A rule written over this
/// (<see cref="GeoJson.LooksLikeGeometry(JsonElement)"/>) is written once for a parsed <see cref="JsonElement"/>
/// (<see cref="ParsedJson"/>) and a <see cref="StoredElement"/>, and gives both the same answer. Rules take it as a type
/// parameter constrained to a struct, so each is compiled for each view: no boxing, no interface call.
/// </summary>
public interface IJsonView<TSelf> : IJsonText where TSelf : struct, IJsonView<TSelf>
{
    JsonValueKind Kind { get; }

    /// <summary>The member of that (unescaped) name.</summary>
    bool TryGetMember(ReadOnlySpan<byte> name, out TSelf value);

    int GetInt32();

    long GetInt64();

    DateTimeOffset GetDateTimeOffset();

    int GetArrayLength();

    /// <summary>
    /// An array's item at <paramref name="cursor"/> (0 for the first), and the cursor moved on to the next; false after the
    /// last. <see cref="JsonItems{TJson}"/> walks it with foreach.
    /// </summary>
    bool NextItem(ref int cursor, out TSelf item);
}

/// <summary>The items of an <see cref="IJsonView{TSelf}"/> array, for foreach.</summary>
public struct JsonItems<TJson>(TJson array) where TJson : struct, IJsonView<TJson>
{
    private int _cursor;

    public TJson Current { get; private set; }

    public readonly JsonItems<TJson> GetEnumerator() => this;

    public bool MoveNext()
    {
        var found = array.NextItem(ref _cursor, out var item);
        Current = item;
        return found;
    }
}

/// <summary>A <see cref="JsonElement"/> as an <see cref="IJsonView{TSelf}"/>.</summary>
public readonly struct ParsedJson(JsonElement element) : IJsonView<ParsedJson>
{
    public JsonValueKind Kind => element.ValueKind;

    public bool TryGetMember(ReadOnlySpan<byte> name, out ParsedJson value)
    {
        var found = element.TryGetProperty(name, out var member);
        value = new ParsedJson(member);
        return found;
    }

    public bool ValueEquals(ReadOnlySpan<byte> utf8) => element.ValueKind == JsonValueKind.String && element.ValueEquals(utf8);

    public string GetString() => element.GetString()!;

    public ReadOnlySpan<byte> RawText => JsonMarshal.GetRawUtf8Value(element)[1..^1];

    public int GetInt32() => element.GetInt32();

    public long GetInt64() => element.GetInt64();

    public DateTimeOffset GetDateTimeOffset() => element.GetDateTimeOffset();

    public int GetArrayLength() => element.GetArrayLength();

    /// <remarks>The cursor is the item's index: one step for an array of strings or numbers, as a stored head holds;
    /// an item of an array holding objects or arrays is found by walking to it.</remarks>
    public bool NextItem(ref int cursor, out ParsedJson item)
    {
        if (element.ValueKind != JsonValueKind.Array || cursor >= element.GetArrayLength())
        {
            item = default;
            return false;
        }
        item = new ParsedJson(element[cursor++]);
        return true;
    }
}

/// <summary>A member's name of a parsed object as an <see cref="IJsonText"/>.</summary>
public readonly struct ParsedName(JsonProperty member) : IJsonText
{
    public bool ValueEquals(ReadOnlySpan<byte> utf8) => member.NameEquals(utf8);

    public string GetString() => member.Name;

    public ReadOnlySpan<byte> RawText => JsonMarshal.GetRawUtf8PropertyName(member);
}
