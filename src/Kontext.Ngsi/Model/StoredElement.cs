using System.Buffers;
using System.Text;
using System.Text.Json;
using Kontext.Ngsi.Formats;

namespace Kontext.Ngsi.Model;

/// <summary>
/// A JSON value of a stored document, as its own UTF-8 bytes in that document: read with a <see cref="Utf8JsonReader"/>
/// when asked, never parsed into a <see cref="JsonDocument"/>. Stored documents are written by a <see cref="Utf8JsonWriter"/>
/// with its default encoder (no whitespace; every character but printable ASCII outside of HTML's escaped), so a value
/// without a backslash is written by any writer whose encoder escapes no more than that exactly as it stands; one with
/// escapes is read token by token and written again, as <see cref="JsonElement.WriteTo"/> writes it.
/// </summary>
public readonly struct StoredElement(byte[] document, int start, int length)
{
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = StoredJson.MaxDepth };

    public ReadOnlySpan<byte> Utf8 => document.AsSpan(start, length);

    public JsonValueKind Kind => length == 0 ? JsonValueKind.Undefined : document[start] switch
    {
        (byte)'{' => JsonValueKind.Object,
        (byte)'[' => JsonValueKind.Array,
        (byte)'"' => JsonValueKind.String,
        (byte)'t' => JsonValueKind.True,
        (byte)'f' => JsonValueKind.False,
        (byte)'n' => JsonValueKind.Null,
        _ => JsonValueKind.Number,
    };

    /// <summary>
    /// The value whose first token the reader (over <paramref name="document"/> from <paramref name="offset"/>) stands on;
    /// the reader is left on its last token.
    /// </summary>
    public static StoredElement At(byte[] document, int offset, ref Utf8JsonReader reader)
    {
        var first = offset + (int)reader.TokenStartIndex;
        if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) reader.Skip();
        return new StoredElement(document, first, offset + (int)reader.BytesConsumed - first);
    }

    private Utf8JsonReader Reader() => new(Utf8, ReaderOptions);

    public MemberEnumerator EnumerateObject() => new(document, start, length);

    public ArrayEnumerator EnumerateArray() => new(document, start, length);

    /// <summary>The member of that name (the first, as <see cref="JsonElement.TryGetProperty(ReadOnlySpan{byte}, out JsonElement)"/> finds it).</summary>
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

    public bool TryGetMember(string name, out StoredElement value)
    {
        Span<byte> utf8 = stackalloc byte[Encoding.UTF8.GetMaxByteCount(name.Length)];
        return TryGetMember(utf8[..Encoding.UTF8.GetBytes(name, utf8)], out value);
    }

    /// <summary>A string's text (unescaped).</summary>
    public string GetString()
    {
        var reader = Reader();
        reader.Read();
        return reader.GetString()!;
    }

    /// <summary>Whether this is a string whose text is <paramref name="utf8"/>.</summary>
    public bool ValueEquals(ReadOnlySpan<byte> utf8)
    {
        if (Kind != JsonValueKind.String) return false;
        var reader = Reader();
        reader.Read();
        return reader.ValueTextEquals(utf8);
    }

    /// <summary>The value as a <see cref="JsonElement"/> of its own (for the rare question only a parsed value answers).</summary>
    public JsonElement ToElement() => JsonElement.Parse(Utf8, new JsonDocumentOptions { MaxDepth = StoredJson.MaxDepth });

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
    public ref struct MemberEnumerator
    {
        private readonly byte[] _document;
        private readonly int _start;
        private Utf8JsonReader _reader;

        internal MemberEnumerator(byte[] document, int start, int length)
        {
            (_document, _start) = (document, start);
            _reader = new Utf8JsonReader(document.AsSpan(start, length), ReaderOptions);
            _reader.Read(); // the object's start
        }

        public StoredMember Current { get; private set; }

        public readonly MemberEnumerator GetEnumerator() => this;

        public bool MoveNext()
        {
            if (!_reader.Read() || _reader.TokenType != JsonTokenType.PropertyName) return false;
            var name = new StoredElement(_document, _start + (int)_reader.TokenStartIndex, _reader.ValueSpan.Length + 2);
            var escaped = _reader.ValueIsEscaped;
            _reader.Read();
            Current = new StoredMember(name, escaped, At(_document, _start, ref _reader));
            return true;
        }
    }

    /// <summary>The items of an array, in order.</summary>
    public ref struct ArrayEnumerator
    {
        private readonly byte[] _document;
        private readonly int _start;
        private Utf8JsonReader _reader;

        internal ArrayEnumerator(byte[] document, int start, int length)
        {
            (_document, _start) = (document, start);
            _reader = new Utf8JsonReader(document.AsSpan(start, length), ReaderOptions);
            _reader.Read(); // the array's start
        }

        public StoredElement Current { get; private set; }

        public readonly ArrayEnumerator GetEnumerator() => this;

        public bool MoveNext()
        {
            if (!_reader.Read() || _reader.TokenType == JsonTokenType.EndArray) return false;
            Current = At(_document, _start, ref _reader);
            return true;
        }
    }
}

/// <summary>A member of a <see cref="StoredElement"/> object: its name (the quoted token as stored) and its value.</summary>
public readonly struct StoredMember(StoredElement name, bool nameEscaped, StoredElement value)
{
    public StoredElement Value { get; } = value;

    /// <summary>The name's text, unescaped.</summary>
    public string Name => name.GetString();

    public bool NameEquals(ReadOnlySpan<byte> utf8) => nameEscaped ? name.ValueEquals(utf8) : name.Utf8[1..^1].SequenceEqual(utf8);

    /// <summary>The member as it stands: its name (escaped again by the writer's encoder) and its value.</summary>
    public void WriteTo(Utf8JsonWriter writer)
    {
        if (nameEscaped) writer.WritePropertyName(Name);
        else writer.WritePropertyName(name.Utf8[1..^1]);
        Value.WriteTo(writer);
    }
}
