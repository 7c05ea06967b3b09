using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Kontext.Ngsi.Model;

namespace Kontext.Ngsi.Tests.Model;

/// <summary>
/// Issue 12, session 14: <see cref="StoredElement"/> reads a document a default <see cref="Utf8JsonWriter"/> wrote, by
/// matching brackets, and answers as a <see cref="JsonElement"/> of the same document does.
/// </summary>
public sealed class StoredElementTests
{
    private static readonly string[] Texts = ["plain", "", "q\"uote", "back\\slash", "naïve", "<&>'+`", "line\nbreak", "日本 \ud83d\ude00", "n\\n"];

    /// <summary>A document as the stored form is written: the default writer, no whitespace.</summary>
    private static byte[] Written(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer)) write(writer);
        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] Sample() => Written(w =>
    {
        w.WriteStartObject();
        foreach (var text in Texts)
        {
            w.WriteStartObject(text + "#");
            w.WriteString("s", text);
            w.WriteStartArray("a");
            w.WriteNumberValue(-1.50e3m);
            w.WriteStringValue(text);
            w.WriteStartObject();
            w.WriteBoolean(text, true);
            w.WriteNull("n]}");
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteNumber("last", 7);
        w.WriteEndObject();
    });

    private static string Rendered(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping })) write(writer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    [Fact]
    public void Members_items_strings_and_names_read_as_the_parsed_document_reads_them()
    {
        var doc = Sample();
        var parsed = JsonDocument.Parse(doc).RootElement;
        var stored = StoredElement.At(doc, 0);
        stored.Next.Should().Be(doc.Length);
        var members = new List<string>();
        foreach (var member in stored.EnumerateObject()) members.Add(member.Name);
        members.Should().Equal(parsed.EnumerateObject().Select(p => p.Name));
        foreach (var text in Texts)
        {
            stored.TryGetMember(Encoding.UTF8.GetBytes(text + "#"), out var attribute).Should().BeTrue(text);
            var expected = parsed.GetProperty(text + "#");
            attribute.TryGetMember("s"u8, out var s).Should().BeTrue();
            s.GetString().Should().Be(text);
            s.ValueEquals(Encoding.UTF8.GetBytes(text)).Should().BeTrue(text);
            s.ValueEquals(Encoding.UTF8.GetBytes(text + "x")).Should().BeFalse();
            var items = new List<JsonValueKind>();
            foreach (var item in attribute.TryGetMember("a"u8, out var a) ? a.EnumerateArray() : default) items.Add(item.Kind);
            items.Should().Equal(expected.GetProperty("a").EnumerateArray().Select(e => e.ValueKind));
            Rendered(attribute.WriteTo).Should().Be(Rendered(expected.WriteTo), text);
        }
        stored.TryGetMember("absent"u8, out _).Should().BeFalse();
        stored.TryGetMember("last"u8, out var last).Should().BeTrue();
        last.GetInt32().Should().Be(7);
    }

    /// <summary>
    /// Names are looked up as UTF-8 only (no transcoding on the stack): a name of any length is found, escaped in the
    /// document or not.
    /// </summary>
    [Fact]
    public void A_member_of_a_long_name_is_found_by_its_utf8_name()
    {
        var name = string.Concat(Enumerable.Repeat("näme\\", 200_000)); // 1.2 MB of UTF-8, escaped where stored
        var doc = Written(w =>
        {
            w.WriteStartObject();
            w.WriteNumber(name + "x", 1);
            w.WriteNumber(name, 2);
            w.WriteEndObject();
        });
        StoredElement.At(doc, 0).TryGetMember(Encoding.UTF8.GetBytes(name), out var value).Should().BeTrue();
        value.GetInt32().Should().Be(2);
        StoredElement.At(doc, 0).TryGetMember(Encoding.UTF8.GetBytes(name + "y"), out _).Should().BeFalse();
    }

    /// <summary>A text holding a backslash is not taken for the escape it spells (\n is not a line break).</summary>
    [Fact]
    public void An_escaped_string_is_compared_by_its_text_not_its_spelling()
    {
        var doc = Written(w => w.WriteStringValue("line\nbreak"));
        var stored = StoredElement.At(doc, 0);
        stored.ValueEquals("line\\nbreak"u8).Should().BeFalse();
        stored.ValueEquals("line\nbreak"u8).Should().BeTrue();
    }

    [Fact]
    public void A_member_is_written_as_the_parsed_documents_member_is()
    {
        var doc = Sample();
        var parsed = JsonDocument.Parse(doc).RootElement;
        Rendered(w =>
        {
            w.WriteStartObject();
            foreach (var member in StoredElement.At(doc, 0).EnumerateObject()) member.WriteTo(w);
            w.WriteEndObject();
        }).Should().Be(Rendered(parsed.WriteTo));
    }

    /// <summary>
    /// A rule over <see cref="IJsonView{TSelf}"/> (the stored entity form's head) reads both views alike: items one by one,
    /// array lengths, strings, their raw text and names, numbers and times.
    /// </summary>
    [Fact]
    public void Both_views_give_a_rule_the_same_items_strings_numbers_and_times()
    {
        var doc = Written(w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("strings");
            foreach (var text in Texts) w.WriteStringValue(text);
            w.WriteEndArray();
            w.WriteStartArray("mixed");
            w.WriteNumberValue(2147483647);
            w.WriteNumberValue(638423784001230000L);
            w.WriteStringValue(new DateTimeOffset(2024, 2, 1, 9, 0, 0, TimeSpan.FromHours(2)).AddTicks(1234567));
            w.WriteStartObject();
            w.WriteEndObject();
            w.WriteStartArray();
            w.WriteNumberValue(-3);
            w.WriteEndArray();
            w.WriteEndArray();
            w.WriteStartArray("empty");
            w.WriteEndArray();
            w.WriteEndObject();
        });
        var stored = Read(StoredElement.At(doc, 0));
        var parsed = Read(new ParsedJson(JsonDocument.Parse(doc).RootElement));
        parsed.Should().Equal(stored);
        parsed.Should().Contain(["string plain plain", @"string naïve na\u00EFve", "int 2147483647", "long 638423784001230000", "length 0"]);

        // A member's name, which a parsed document has no element for, reads as the stored member's name does.
        var names = StoredElement.At(Sample(), 0).EnumerateObject();
        foreach (var member in JsonDocument.Parse(Sample()).RootElement.EnumerateObject())
        {
            names.MoveNext().Should().BeTrue();
            var name = new ParsedName(member);
            (name.GetString(), Encoding.UTF8.GetString(name.RawText)).Should().Be((names.Current.Name, Encoding.UTF8.GetString(names.Current.NameUtf8)));
            name.ValueEquals(Encoding.UTF8.GetBytes(names.Current.Name)).Should().BeTrue();
        }

        static List<string> Read<TJson>(TJson root) where TJson : struct, IJsonView<TJson>
        {
            var seen = new List<string>();
            foreach (var name in new[] { "strings", "mixed", "empty" })
            {
                root.TryGetMember(Encoding.UTF8.GetBytes(name), out var array).Should().BeTrue();
                seen.Add($"length {array.GetArrayLength()}");
                foreach (var item in new JsonItems<TJson>(array))
                {
                    seen.Add(item.Kind switch
                    {
                        JsonValueKind.String when name == "mixed" => $"time {item.GetDateTimeOffset():O}",
                        JsonValueKind.String => $"string {item.GetString()} {Encoding.UTF8.GetString(item.RawText)}",
                        JsonValueKind.Number when item.GetInt64() > int.MaxValue => $"long {item.GetInt64()}",
                        JsonValueKind.Number => $"int {item.GetInt32()}",
                        var kind => $"{kind} of {(kind == JsonValueKind.Array ? item.GetArrayLength() : 0)}",
                    });
                }
            }
            return seen;
        }
    }
}
