using System.Text;

namespace Kontext.Storage.Sqlite;

/// <summary>
/// The compact stored form of a history row (schema step 9), and its way back to what the API shows, byte for byte:
/// <list type="bullet">
/// <item>an instance id this broker made (<c>urn:ngsi-ld:attribute:instance:</c> and 32 lowercase hex digits) is kept as its
/// 16 bytes; any other id (from an older release, or a form this rule does not cover) stays text, so a comparison of
/// stored forms is a comparison of ids;</item>
/// <item>the instance JSON loses the members at its end that a column or the rest of the row gives again:
/// <c>modifiedAt</c> (the row's modified_at), <c>createdAt</c> when it is the same time (a created instance),
/// <c>"type":"Property"</c> (the parser puts type after the payload), and <c>observedAt</c> when its text is the
/// observed_at column, or that time in whole seconds (<c>…:29Z</c> for <c>…:29.000Z</c>). They are cut from the end one
/// after the other and put back in the reverse order; <c>trimmed</c> says which (bits below). A document is trimmed only
/// when putting them back gives exactly its text.</item>
/// </list>
/// </summary>
internal static class SqliteInstanceForm
{
    public const string InstancePrefix = "urn:ngsi-ld:attribute:instance:";
    private const int HexDigits = 32;

    [ThreadStatic] private static byte[]? t_random;
    [ThreadStatic] private static int t_used;

    /// <summary>
    /// A new instance id in its stored form: 16 random bytes with the version 4 UUID bits, as Guid.NewGuid gives, but cut
    /// from a buffer filled 256 ids at a time: Guid.NewGuid makes a system call per id, 3 % of a batch create's CPU.
    /// </summary>
    public static byte[] NewId()
    {
        if (t_random is null)
        {
            t_random = new byte[4096];
            t_used = t_random.Length;
        }
        if (t_used == t_random.Length)
        {
            System.Security.Cryptography.RandomNumberGenerator.Fill(t_random);
            t_used = 0;
        }
        var bytes = t_random.AsSpan(t_used, 16).ToArray();
        t_used += 16;
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x40); // version 4
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80); // RFC 4122 variant
        return bytes;
    }

    /// <summary>The stored form of an instance id given by a client: bytes for this broker's form, else the text.</summary>
    public static object Stored(string instanceId)
    {
        if (instanceId.Length != InstancePrefix.Length + HexDigits || !instanceId.StartsWith(InstancePrefix, StringComparison.Ordinal)) return instanceId;
        var hex = instanceId.AsSpan(InstancePrefix.Length);
        foreach (var c in hex)
            if (c is not (>= '0' and <= '9' or >= 'a' and <= 'f')) return instanceId;
        return Convert.FromHexString(hex);
    }

    /// <summary>The instance id a stored value stands for.</summary>
    public static string Text(object stored) => stored switch
    {
        byte[] bytes => InstancePrefix + Convert.ToHexStringLower(bytes),
        string text => text,
        _ => Convert.ToString(stored, System.Globalization.CultureInfo.InvariantCulture)!,
    };

    private const int ObservedAt = 1, CreatedAt = 2, ModifiedAt = 4, PropertyType = 8, ObservedAtInSeconds = 16;
    private const string PropertyMemberText = ",\"type\":\"Property\"";
    private static ReadOnlySpan<byte> PropertyMember => ",\"type\":\"Property\""u8;

    /// <summary>
    /// An instance document's stored form, from its UTF-8 without a trimmed copy: <paramref name="doc"/> up to <c>End</c>
    /// and a closing brace (the whole of it when nothing is trimmed), and the trimmed bits (0: stored whole).
    /// </summary>
    /// <remarks>
    /// Each member is cut only when the text before the closing brace ends with exactly what <see cref="Restore"/> appends
    /// for it, and they are cut in the reverse order of Restore's, so putting them back gives the document's text. What
    /// the cuts take is whole characters, so the text kept is the UTF-8 kept.
    /// </remarks>
    public static (int End, int Trimmed) TrimmedEnd(ReadOnlySpan<byte> doc, string? observedAt, string modifiedAt) =>
        TrimmedEnd(doc, observedAt, modifiedAt, timesCut: false);

    /// <summary>
    /// The stored form of an instance given as its members in <paramref name="utf8"/> from <paramref name="start"/> to
    /// <paramref name="end"/> (UTF-8 as <c>ToJsonString</c> writes them) without its last members <c>createdAt</c> and
    /// <c>modifiedAt</c> when <paramref name="created"/> and <paramref name="modified"/> give them (null: it has them all):
    /// what <see cref="OfWhole"/> stores of its whole document, without that document. Null when it cannot be said from the
    /// members: its modifiedAt is not the row's (nothing is cut), it has no member before its times (no comma to cut), or
    /// a createdAt kept is not a plain time.
    /// </summary>
    public static StoredDocument? OfMembers(byte[] utf8, int start, int end, string? created, string? modified, string? observedAt, string modifiedAt)
    {
        var members = utf8.AsSpan(start, end - start);
        if (created is null)
        {
            var (whole, trimmed) = TrimmedEnd(members, observedAt, modifiedAt);
            return new StoredDocument(utf8, start, start + whole, trimmed);
        }
        if (members.Length <= 2 || modified != modifiedAt) return null;
        if (created == modifiedAt)
        {
            // A created instance: both times are cut, then the rest as from the whole document.
            var (cut, trimmed) = TrimmedEnd(members, observedAt, modifiedAt, timesCut: true);
            return new StoredDocument(utf8, start, start + cut, trimmed);
        }
        // An updated instance: modifiedAt is cut, and nothing before createdAt, which stays the last member.
        return IsPlainTime(created) ? new StoredDocument(utf8, start, end - 1, ModifiedAt, created) : null;
    }

    /// <summary>A time a JSON writer writes as it is (no character it escapes), so its member's bytes are known without writing it.</summary>
    private static bool IsPlainTime(string time) =>
        time.Length <= 40 && !time.AsSpan().ContainsAnyExcept(PlainTimeCharacters);

    private static readonly System.Buffers.SearchValues<char> PlainTimeCharacters = System.Buffers.SearchValues.Create("0123456789-:.TZ");

    private static (int End, int Trimmed) TrimmedEnd(ReadOnlySpan<byte> doc, string? observedAt, string modifiedAt, bool timesCut)
    {
        if (doc.Length < 2 || doc[^1] != '}') return (doc.Length, 0);
        var end = doc.Length - 1; // the closing brace: the members are cut from the text before it
        var trimmed = 0;
        if (timesCut) trimmed = ModifiedAt | CreatedAt;
        else
        {
            if (Cut(doc, ref end, "modifiedAt"u8, modifiedAt, ""u8)) trimmed |= ModifiedAt;
            if (Cut(doc, ref end, "createdAt"u8, modifiedAt, ""u8)) trimmed |= CreatedAt;
        }
        if (Cut(doc, ref end, PropertyMember)) trimmed |= PropertyType;
        if (observedAt is not null)
        {
            if (Cut(doc, ref end, "observedAt"u8, observedAt, ""u8)) trimmed |= ObservedAt;
            else if (observedAt.EndsWith(".000Z", StringComparison.Ordinal) && Cut(doc, ref end, "observedAt"u8, observedAt.AsSpan(0, observedAt.Length - 5), "Z"u8))
                trimmed |= ObservedAtInSeconds;
        }
        return trimmed == 0 ? (doc.Length, 0) : (end, trimmed);
    }

    /// <summary>A whole instance document's stored form (<see cref="TrimmedEnd(ReadOnlySpan{byte}, string?, string)"/> of its UTF-8).</summary>
    public static StoredDocument OfWhole(byte[] utf8, string? observedAt, string modifiedAt)
    {
        var (end, trimmed) = TrimmedEnd(utf8, observedAt, modifiedAt);
        return new StoredDocument(utf8, 0, end, trimmed);
    }

    /// <summary>An instance's stored form, written out on its own (<see cref="Utf8"/>); none (NULL) without an instance.</summary>
    public static StoredDocument OfInstance(System.Text.Json.Nodes.JsonObject? instance, string? observedAt, string modifiedAt) =>
        instance is null ? default : OfWhole(Utf8(instance), observedAt, modifiedAt);

    /// <summary>An instance document's UTF-8 as <c>ToJsonString</c> writes it (the same writer settings), without the string.</summary>
    public static byte[] Utf8(System.Text.Json.Nodes.JsonObject instance)
    {
        var buffer = t_buffer ??= new System.Buffers.ArrayBufferWriter<byte>(256);
        buffer.ResetWrittenCount();
        var writer = t_writer ??= new System.Text.Json.Utf8JsonWriter(buffer);
        writer.Reset(buffer);
        instance.WriteTo(writer);
        writer.Flush();
        var utf8 = buffer.WrittenSpan.ToArray();
        if (buffer.Capacity > 64 * 1024) (t_buffer, t_writer) = (null, null); // a large instance's buffer is not kept
        return utf8;
    }

    [ThreadStatic] private static System.Buffers.ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] private static System.Text.Json.Utf8JsonWriter? t_writer;

    /// <summary>The document whose stored form (<see cref="OfWhole"/>) is <paramref name="doc"/> with those trimmed bits.</summary>
    public static string? Restore(string? doc, int trimmed, string? observedAt, string modifiedAt)
    {
        if (doc is null || trimmed == 0) return doc;
        var text = new StringBuilder(doc.Length + 140).Append(doc, 0, doc.Length - 1);
        if ((trimmed & ObservedAt) != 0) Add(text, "observedAt", observedAt ?? "");
        if ((trimmed & ObservedAtInSeconds) != 0) Add(text, "observedAt", InSeconds(observedAt ?? "") ?? "");
        if ((trimmed & PropertyType) != 0) text.Append(PropertyMemberText);
        if ((trimmed & CreatedAt) != 0) Add(text, "createdAt", modifiedAt);
        if ((trimmed & ModifiedAt) != 0) Add(text, "modifiedAt", modifiedAt);
        return text.Append('}').ToString();

        static void Add(StringBuilder text, string name, string value) => text.Append(",\"").Append(name).Append("\":\"").Append(value).Append('"');
    }

    /// <summary>"…:29Z" for a stored time "…:29.000Z"; null when it has milliseconds.</summary>
    private static string? InSeconds(string time) =>
        time.EndsWith(".000Z", StringComparison.Ordinal) ? string.Concat(time.AsSpan(0, time.Length - 5), "Z") : null;

    /// <summary>
    /// Moves <paramref name="end"/> before <c>,"name":"value"</c> (the value given as <paramref name="value"/> then
    /// <paramref name="valueEnd"/>) when the text before it ends so and an opening brace stays before it.
    /// </summary>
    private static bool Cut(ReadOnlySpan<byte> doc, ref int end, ReadOnlySpan<byte> name, ReadOnlySpan<char> value, ReadOnlySpan<byte> valueEnd)
    {
        // A time's text (ASCII, 24 characters) fits the stack buffer.
        var valueUtf8 = value.Length <= 40 ? stackalloc byte[120] : new byte[Encoding.UTF8.GetMaxByteCount(value.Length)];
        var valueLength = Encoding.UTF8.GetBytes(value, valueUtf8);
        var length = name.Length + valueLength + valueEnd.Length + 6;
        if (end < length + 1) return false;
        var tail = doc.Slice(end - length, length);
        if (!tail.StartsWith(",\""u8) || !tail[2..].StartsWith(name)) return false;
        tail = tail[(2 + name.Length)..];
        if (!tail.StartsWith("\":\""u8) || !tail[3..].StartsWith(valueUtf8[..valueLength])) return false;
        tail = tail[(3 + valueLength)..];
        if (!tail.StartsWith(valueEnd) || tail.Length != valueEnd.Length + 1 || tail[^1] != '"') return false;
        end -= length;
        return true;
    }

    /// <summary>Moves <paramref name="end"/> before <paramref name="member"/> (",\"name\":…") when the text before it ends with it.</summary>
    private static bool Cut(ReadOnlySpan<byte> doc, ref int end, ReadOnlySpan<byte> member)
    {
        if (end < member.Length + 1 || !doc[..end].EndsWith(member)) return false;
        end -= member.Length;
        return true;
    }
}

/// <summary>
/// A history row's stored document as the group writer binds it, from bytes that exist already: <see cref="Utf8"/> from
/// <see cref="Start"/> to <see cref="End"/>, then the member <c>"createdAt":</c> <see cref="KeptCreatedAt"/> when given, and a
/// closing brace when <see cref="Trimmed"/> is not 0 (<see cref="SqliteInstanceForm.TrimmedEnd(ReadOnlySpan{byte}, string?, string)"/>'s bits); NULL without bytes.
/// </summary>
internal readonly record struct StoredDocument(byte[]? Utf8, int Start, int End, int Trimmed, string? KeptCreatedAt = null)
{
    /// <summary>The document's text: what a write through a command (not the group writer) binds, and what checks and tests compare.</summary>
    public string? Text => Utf8 is null ? null
        : System.Text.Encoding.UTF8.GetString(Utf8, Start, End - Start) + (KeptCreatedAt is null ? "" : $",\"createdAt\":\"{KeptCreatedAt}\"") + (Trimmed != 0 ? "}" : "");

    public override string? ToString() => Text;
}
