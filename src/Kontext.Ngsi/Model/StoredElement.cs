using System.Buffers;
using System.Text;
using System.Text.Json;
using Kontext.Ngsi.Formats;

namespace Kontext.Ngsi.Model;

/// <summary>
/// A JSON value of a stored document, as its own UTF-8 bytes in that document: never parsed into a
/// <see cref="JsonDocument"/>. Stored documents are written by a <see cref="Utf8JsonWriter"/> with its default encoder:
/// no whitespace, and every character but printable ASCII outside of HTML's escaped. So a value's extent is found by
/// matching brackets outside strings (no tokenizer), and a value without a backslash is written by any writer whose
/// encoder escapes no more than that exactly as it stands; one with escapes is read with a <see cref="Utf8JsonReader"/>
/// token by token and written again, as <see cref="JsonElement.WriteTo"/> writes it.
/// </summary>
public readonly struct StoredElement(byte[] document, int start, int length) : IJsonView<StoredElement>
{
    private readonly byte[] _document = document;
    private readonly int _start = start, _length = length;

    /// <summary>The index after the value in its document (where a comma, a closing bracket or the end follows).</summary>
    public int Next => _start + _length;

    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = StoredJson.MaxDepth };

    public ReadOnlySpan<byte> Utf8 => _document.AsSpan(_start, _length);

    public JsonValueKind Kind => _length == 0 ? JsonValueKind.Undefined : _document[_start] switch
    {
        (byte)'{' => JsonValueKind.Object,
        (byte)'[' => JsonValueKind.Array,
        (byte)'"' => JsonValueKind.String,
        (byte)'t' => JsonValueKind.True,
        (byte)'f' => JsonValueKind.False,
        (byte)'n' => JsonValueKind.Null,
        _ => JsonValueKind.Number,
    };

    /// <summary>The value that begins at <paramref name="offset"/> of <paramref name="document"/>.</summary>
    public static StoredElement At(byte[] document, int offset) => new(document, offset, End(document, offset) - offset);

    private static readonly SearchValues<byte> StringStops = SearchValues.Create("\"\\"u8);
    private static readonly SearchValues<byte> Brackets = SearchValues.Create("\"{}[]"u8);
    private static readonly SearchValues<byte> PrimitiveEnds = SearchValues.Create(",}]"u8);

    /// <summary>Where the value beginning at <paramref name="at"/> ends (the index after it), in a document without whitespace.</summary>
    private static int End(ReadOnlySpan<byte> json, int at)
    {
        switch (json[at])
        {
            case (byte)'"':
                return StringEnd(json, at);
            case (byte)'{' or (byte)'[':
                var depth = 0;
                for (var i = at; ;)
                {
                    var next = json[i..].IndexOfAny(Brackets);
                    if (next < 0) throw Malformed();
                    i += next;
                    switch (json[i])
                    {
                        case (byte)'"': i = StringEnd(json, i); continue;
                        case (byte)'{' or (byte)'[': depth++; break;
                        default: if (--depth == 0) return i + 1; break;
                    }
                    i++;
                }
            default:
                var end = json[at..].IndexOfAny(PrimitiveEnds);
                return end < 0 ? json.Length : at + end;
        }
    }

    /// <summary>The index after the string whose opening quote is at <paramref name="at"/>.</summary>
    private static int StringEnd(ReadOnlySpan<byte> json, int at)
    {
        for (var i = at + 1; ;)
        {
            var next = json[i..].IndexOfAny(StringStops);
            if (next < 0) throw Malformed();
            i += next;
            if (json[i] == '"') return i + 1;
            i += 2; // the backslash and the character it escapes (a \uXXXX's digits hold neither stop)
        }
    }

    private static JsonException Malformed() => new("A stored document ends inside a value");

    private Utf8JsonReader Reader() => new(Utf8, ReaderOptions);

    public MemberEnumerator EnumerateObject() => new(_document, _start, _length);

    /// <summary>The items of an array, in order (<see cref="NextItem"/>).</summary>
    public JsonItems<StoredElement> EnumerateArray() => new(this);

    /// <remarks>Counted by walking the items.</remarks>
    public int GetArrayLength()
    {
        var count = 0;
        foreach (var _ in EnumerateArray()) count++;
        return count;
    }

    /// <remarks>The cursor is where the item begins in the document (0: the first item, after the opening bracket).</remarks>
    public bool NextItem(ref int cursor, out StoredElement item)
    {
        var at = cursor == 0 ? _start + 1 : cursor;
        if (Kind != JsonValueKind.Array || at >= Next - 1)
        {
            item = default;
            return false;
        }
        item = At(_document, at);
        cursor = item.Next + 1; // after the comma (or the closing bracket, where the next call stops)
        return true;
    }

    /// <summary>
    /// The member of that name (the first, as <see cref="JsonElement.TryGetProperty(ReadOnlySpan{byte}, out JsonElement)"/>
    /// finds it). The name is UTF-8 only: callers hold their names so, and nothing is transcoded per call.
    /// </summary>
    public bool TryGetMember(ReadOnlySpan<byte> name, out StoredElement value)
    {
        if (Kind == JsonValueKind.Object)
        {
            foreach (var member in EnumerateObject())
            {
                if (!member.NameEquals(name)) continue;
                value = member.Value;
                return true;
            }
        }
        value = default;
        return false;
    }

    /// <summary>A string's text (unescaped).</summary>
    public string GetString()
    {
        var inner = Utf8[1..^1];
        if (inner.IndexOf((byte)'\\') < 0) return Encoding.UTF8.GetString(inner);
        var reader = Reader();
        reader.Read();
        return reader.GetString()!;
    }

    public ReadOnlySpan<byte> RawText => Utf8[1..^1];

    public int GetInt32() => System.Buffers.Text.Utf8Parser.TryParse(Utf8, out int value, out var used) && used == _length ? value : throw NotA("an int");

    public long GetInt64() => System.Buffers.Text.Utf8Parser.TryParse(Utf8, out long value, out var used) && used == _length ? value : throw NotA("a long");

    public DateTimeOffset GetDateTimeOffset()
    {
        var reader = Reader();
        reader.Read();
        return reader.GetDateTimeOffset();
    }

    private FormatException NotA(string what) => new($"A stored value is not {what}: {Encoding.UTF8.GetString(Utf8)}");

    /// <summary>Whether this is a string whose text is <paramref name="utf8"/>.</summary>
    public bool ValueEquals(ReadOnlySpan<byte> utf8)
    {
        if (Kind != JsonValueKind.String) return false;
        // An escape is longer than what it stands for: a string no longer than the text equals it only unescaped.
        var inner = Utf8[1..^1];
        if (inner.Length <= utf8.Length) return inner.SequenceEqual(utf8) && inner.IndexOf((byte)'\\') < 0;
        if (inner.IndexOf((byte)'\\') < 0) return false;
        var reader = Reader();
        reader.Read();
        return reader.ValueTextEquals(utf8);
    }

    public void WriteTo(Utf8JsonWriter writer)
    {
        if (Utf8.IndexOf((byte)'\\') < 0)
        {
            writer.WriteRawValue(Utf8, skipInputValidation: true);
            return;
        }
        var reader = Reader();
        while (reader.Read()) WriteToken(writer, ref reader);
    }

    private static void WriteToken(Utf8JsonWriter writer, ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject: writer.WriteStartObject(); break;
            case JsonTokenType.EndObject: writer.WriteEndObject(); break;
            case JsonTokenType.StartArray: writer.WriteStartArray(); break;
            case JsonTokenType.EndArray: writer.WriteEndArray(); break;
            case JsonTokenType.PropertyName: WriteText(writer, ref reader, name: true); break;
            case JsonTokenType.String: WriteText(writer, ref reader, name: false); break;
            case JsonTokenType.True: writer.WriteBooleanValue(true); break;
            case JsonTokenType.False: writer.WriteBooleanValue(false); break;
            case JsonTokenType.Null: writer.WriteNullValue(); break;
            default: writer.WriteRawValue(reader.ValueSpan, skipInputValidation: true); break; // a number as it was written
        }
    }

    /// <summary>A name or string, unescaped and escaped again by the writer's encoder.</summary>
    internal static void WriteText(Utf8JsonWriter writer, ref Utf8JsonReader reader, bool name)
    {
        if (!reader.ValueIsEscaped)
        {
            if (name) writer.WritePropertyName(reader.ValueSpan);
            else writer.WriteStringValue(reader.ValueSpan);
            return;
        }
        var rented = reader.ValueSpan.Length > 256 ? ArrayPool<byte>.Shared.Rent(reader.ValueSpan.Length) : null;
        try
        {
            Span<byte> buffer = rented ?? stackalloc byte[256];
            var text = buffer[..reader.CopyString(buffer)];
            if (name) writer.WritePropertyName(text);
            else writer.WriteStringValue(text);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>The members of an object, in order.</summary>
    public struct MemberEnumerator(byte[] document, int start, int length)
    {
        private int _at = start + 1; // after the opening brace
        private readonly int _end = start + length - 1; // the closing brace

        public StoredMember Current { get; private set; }

        public readonly MemberEnumerator GetEnumerator() => this;

        public bool MoveNext()
        {
            if (_at >= _end) return false;
            var name = At(document, _at);
            var value = At(document, _at + name.Utf8.Length + 1); // after the colon
            Current = new StoredMember(name, value);
            _at = value.Next + 1; // after the comma
            return true;
        }
    }
}

/// <summary>A member of a <see cref="StoredElement"/> object: its name (the quoted string as stored) and its value.</summary>
public readonly struct StoredMember(StoredElement name, StoredElement value)
{
    public StoredElement Value { get; } = value;

    /// <summary>The name's text, unescaped.</summary>
    public string Name => name.GetString();

    /// <summary>The name as stored, without its quotes (escapes left as they are).</summary>
    public ReadOnlySpan<byte> NameUtf8 => name.Utf8[1..^1];

    public bool NameEquals(ReadOnlySpan<byte> utf8) => name.ValueEquals(utf8);

    /// <summary>The member as it stands: its name (escaped again by the writer's encoder) and its value.</summary>
    public void WriteTo(Utf8JsonWriter writer)
    {
        if (NameUtf8.IndexOf((byte)'\\') < 0) writer.WritePropertyName(NameUtf8);
        else writer.WritePropertyName(Name);
        Value.WriteTo(writer);
    }
}
