using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Formats;
using Kontext.Ngsi.Model;

namespace Kontext.Storage.Sqlite;

/// <summary>
/// The compact stored form of an entity (<c>entities.doc</c>, and the copies of it in <c>deleted_entities</c> and
/// <c>change_log</c>; schema step 10), and its way back to exactly the <see cref="Entity"/> that was stored. It is
/// <see cref="EntityJson"/>'s document less what can be given back exactly:
/// <list type="bullet">
/// <item>member names of one letter (<c>i</c> id, <c>y</c> types, <c>s</c> scopes, <c>c</c>/<c>m</c> createdAt and
/// modifiedAt, <c>a</c> attributes); <c>expiresAt</c> keeps its name, so a transient entity's document still names it
/// (the cheap test of the write path and the expiry reaper's scan, <see cref="NamesExpiresAt(ReadOnlySpan{byte})"/>);</item>
/// <item>the entity's times as UTC ticks (a number) when their offset is zero;</item>
/// <item>type and attribute IRIs under the default context as <c>=</c> and the term, under the core namespace as
/// <c>:</c> and the rest — unless some name of the entity begins with one of these, then every name is kept whole
/// (<c>"f":1</c>);</item>
/// <item>an instance whose last two members are <c>createdAt</c> and <c>modifiedAt</c> (strings) loses them, and a
/// number (both times the same) or a pair of numbers before it in its attribute's array says which times they were:
/// index 0 is the entity's createdAt and 1 its modifiedAt as the core stamps attributes (<see cref="Validate.Format"/>),
/// further ones are listed once in <c>t</c> (<see cref="InstanceTimes"/> names them on the way back, for the decode and
/// for <see cref="Read"/>'s view). On the way back they are appended to the instance in that order.</item>
/// </list>
/// A document in <see cref="EntityJson"/>'s form (a file not migrated, or a document the migration left whole) is read as such.
/// </summary>
internal static class SqliteEntityForm
{
    private const string DefaultContext = "https://uri.etsi.org/ngsi-ld/default-context/";
    private const string CoreNamespace = "https://uri.etsi.org/ngsi-ld/";
    private const string CompactStart = "{\"i\":";
    private static readonly byte[] CompactStartUtf8 = Encoding.UTF8.GetBytes(CompactStart);

    /// <summary>The member name of an entity's or an instance's expiry time, which the compact form keeps whole.</summary>
    private const string ExpiresAtName = "expiresAt";
    private static readonly byte[] ExpiresAtNameUtf8 = Encoding.UTF8.GetBytes(ExpiresAtName);

    /// <summary>
    /// <see cref="ExpiresAtName"/> quoted, as a document's text holds the member: a document holding it is a transient
    /// entity's or has a transient instance (a string value's quotes are escaped). SQL looks for it too (<c>instr</c>).
    /// </summary>
    internal const string ExpiresAtMember = "\"" + ExpiresAtName + "\"";
    private static readonly byte[] ExpiresAtMemberUtf8 = Encoding.UTF8.GetBytes(ExpiresAtMember);

    /// <summary>Whether a stored document (UTF-8, as SQLite holds it) names expiresAt: see <see cref="ExpiresAtMember"/>.</summary>
    public static bool NamesExpiresAt(ReadOnlySpan<byte> doc) => doc.IndexOf(ExpiresAtMemberUtf8) >= 0;

    /// <summary>Whether a document (as <see cref="Encode"/> gives it) names expiresAt: see <see cref="ExpiresAtMember"/>.</summary>
    public static bool NamesExpiresAt(string doc) => doc.Contains(ExpiresAtMember, StringComparison.Ordinal);

    public static string Encode(Entity entity) => Encode(entity, null, null, static utf8 => Encoding.UTF8.GetString(utf8));

    /// <summary>
    /// The document as SQLite stores it (UTF-8): what the write path binds, without a .NET string of it (twice the bytes,
    /// and transcoded back to UTF-8 by the bind). With <paramref name="unchanged"/> (from <see cref="DecodeForWrite"/>, and
    /// only after a decision that replaced every instance it changed: <c>EntityWrite.ReplacesInstances</c>) an instance
    /// that is still the object the decode made is written as its stored bytes, without reading it: the same document.
    /// With <paramref name="written"/>, each instance the encode wrote from its object is recorded with where its members
    /// stand in the document (cleared first), for the history rows that store the same members.
    /// </summary>
    public static byte[] EncodeUtf8(Entity entity, DecodedInstances? unchanged = null, EncodedInstances? written = null)
    {
        written?.Clear();
        var document = Encode(entity, unchanged, written, static utf8 => utf8.ToArray());
#if DEBUG
        // Every test runs the debug build: a reused instance that a decision edited in place would store stale members here.
        // Compared as JSON, not as bytes: stored members may be spelt otherwise than this writer spells them (escapes).
        if (unchanged is not null && !JsonElement.DeepEquals(JsonElement.Parse(document), JsonElement.Parse(Encode(entity, null, null, static utf8 => utf8.ToArray()))))
            throw new InvalidOperationException("A write decision edited a stored instance in place but said it replaces instances");
#endif
        return document;
    }

    private delegate T Encoded<T>(ReadOnlySpan<byte> utf8);

    /// <summary>How one instance is written: its time code (-1: none), and its stored members when they are reused.</summary>
    private readonly record struct InstanceForm(int Created, int Modified, JsonElement? Stored);

    private static T Encode<T>(Entity entity, DecodedInstances? unchanged, EncodedInstances? written, Encoded<T> take)
    {
        var keepNames = entity.Types.Any(IsMarked) || entity.Attributes.Keys.Any(IsMarked);
        var times = new List<string>(4) { Validate.Format(entity.CreatedAt), Validate.Format(entity.ModifiedAt) };
        // The time codes first: the extra times are written before the attributes that use them. A reused instance's
        // times are those it was decoded with (its trailing members), coded again against this entity's times.
        // One list per thread, as the buffer below: an encode does not nest in another on its thread.
        var forms = t_forms ??= [];
        forms.Clear();
        var expected = 0; // where the next decoded instance is looked for
        foreach (var (_, instances) in entity.Attributes)
        {
            foreach (var instance in instances)
            {
                JsonElement? stored = null;
                (string Created, string Modified)? trailing;
                if (unchanged?.Find(instance, expected) is >= 0 and var found)
                {
                    var decoded = unchanged[found];
                    expected = found + 1;
                    stored = decoded.Members;
                    trailing = decoded.Created is { } createdAt ? (createdAt, decoded.Modified!) : null;
                }
                else
                {
                    trailing = TrailingTimes(instance);
                    expected++; // most likely in the place of the one it replaced
                }
                forms.Add(trailing is var (created, modified)
                    ? new InstanceForm(IndexOf(times, created), IndexOf(times, modified), stored)
                    : new InstanceForm(-1, -1, stored));
            }
        }

        // One buffer and writer per thread, reset for each document: the writer encodes a whole batch's documents in turn.
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(buffer);
        writer.Reset(buffer);
        {
            writer.WriteStartObject();
            writer.WriteString("i", entity.Id);
            if (keepNames) writer.WriteNumber("f", 1);
            writer.WriteStartArray("y");
            foreach (var type in entity.Types) writer.WriteStringValue(keepNames ? type : Short(type));
            writer.WriteEndArray();
            if (entity.Scopes is { Count: > 0 })
            {
                writer.WriteStartArray("s");
                foreach (var scope in entity.Scopes) writer.WriteStringValue(scope);
                writer.WriteEndArray();
            }
            WriteTime(writer, "c", entity.CreatedAt);
            WriteTime(writer, "m", entity.ModifiedAt);
            if (entity.ExpiresAt is { } expiresAt) writer.WriteString(ExpiresAtName, expiresAt);
            if (times.Count > 2)
            {
                writer.WriteStartArray("t");
                foreach (var time in times.Skip(2)) writer.WriteStringValue(time);
                writer.WriteEndArray();
            }
            writer.WriteStartObject("a");
            var next = 0;
            foreach (var (name, instances) in entity.Attributes)
            {
                writer.WriteStartArray(keepNames ? name : Short(name));
                foreach (var instance in instances)
                {
                    var form = forms[next++];
                    if (form.Created >= 0)
                    {
                        if (form.Created == form.Modified) writer.WriteNumberValue(form.Created);
                        else
                        {
                            writer.WriteStartArray();
                            writer.WriteNumberValue(form.Created);
                            writer.WriteNumberValue(form.Modified);
                            writer.WriteEndArray();
                        }
                    }
                    // The stored members were written by this writer: the bytes a whole encode would write again.
                    if (form.Stored is { } stored) writer.WriteRawValue(JsonMarshal.GetRawUtf8Value(stored), skipInputValidation: true);
                    else
                    {
                        var start = 0;
                        if (written is not null)
                        {
                            writer.Flush(); // what the writer holds goes to the buffer, where the instance's place is counted
                            start = buffer.WrittenCount;
                        }
                        if (form.Created >= 0) WriteWithout(writer, instance, 2);
                        else instance.WriteTo(writer);
                        if (written is not null)
                        {
                            writer.Flush();
                            // The value's separator, when one was written, is not the instance's.
                            if (buffer.WrittenSpan[start] == ',') start++;
                            written.Add(instance, start, buffer.WrittenCount,
                                form.Created >= 0 ? times[form.Created] : null, form.Created >= 0 ? times[form.Modified] : null);
                        }
                    }
                }
                writer.WriteEndArray();
            }
            writer.WriteEndObject();
            writer.WriteEndObject();
            writer.Flush();
        }
        var doc = take(buffer.WrittenSpan);
        if (buffer.Capacity > 64 * 1024) (t_buffer, t_writer) = (null, null); // a large entity's buffer is not kept
        if (forms.Capacity > 1024) t_forms = null; else forms.Clear(); // holds no stored members past the encode
        return doc;
    }

    [ThreadStatic] private static List<InstanceForm>? t_forms;
    [ThreadStatic] private static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    public static Entity Decode(string doc) =>
        doc.StartsWith(CompactStart, StringComparison.Ordinal) ? DecodeCompact(Encoding.UTF8.GetBytes(doc), null) : EntityJson.Deserialize(doc);

    /// <summary>A document as SQLite holds it (UTF-8 text), read without a .NET string of it first.</summary>
    public static Entity Decode(ReadOnlySpan<byte> utf8) =>
        utf8.StartsWith(CompactStartUtf8) ? DecodeCompact(utf8, null) : EntityJson.Deserialize(utf8);

    /// <summary>
    /// <see cref="Decode(ReadOnlySpan{byte})"/> for a write: also the instances it made with their stored members, which
    /// <see cref="EncodeUtf8"/> reuses for the instances the write left alone (null for a document in the whole form).
    /// </summary>
    public static (Entity Entity, DecodedInstances? Instances) DecodeForWrite(ReadOnlySpan<byte> utf8)
    {
        if (!utf8.StartsWith(CompactStartUtf8)) return (EntityJson.Deserialize(utf8), null);
        var instances = new DecodedInstances();
        return (DecodeCompact(utf8, instances), instances);
    }

    /// <summary>
    /// Reads the compact form through one <see cref="JsonElement"/>: only the instances become <see cref="JsonObject"/>s
    /// (their members' nested objects and arrays backed by that element, materialized when first read), not the document,
    /// its attribute map and arrays — the tree that a GET used to build and take apart again for every entity it read.
    /// </summary>
    private static Entity DecodeCompact(ReadOnlySpan<byte> utf8, DecodedInstances? decoded)
    {
        // One pass over the document (ParseValue through a reader skips over the value first, then parses it).
        var root = JsonElement.Parse(utf8, new JsonDocumentOptions { MaxDepth = StoredJson.MaxDepth });
        var head = new Head<ParsedJson>();
        JsonElement attrs = default;
        foreach (var member in root.EnumerateObject())
        {
            if (member.NameEquals("a"u8)) attrs = member.Value;
            else head.Take(new ParsedName(member), new ParsedJson(member.Value));
        }
        var entity = new Entity(head.Id!) { CreatedAt = head.CreatedAt, ModifiedAt = head.ModifiedAt, ExpiresAt = head.ExpiresAt, Scopes = head.ScopeList() };
        head.AddTypes(entity.Types);
        if (attrs.ValueKind != JsonValueKind.Object) return entity;
        if (decoded is not null)
        {
            var count = 0;
            foreach (var attribute in attrs.EnumerateObject()) count += InstanceCount(attribute.Value);
            decoded.Expect(count);
        }
        InstanceTimes? times = null;
        foreach (var attribute in attrs.EnumerateObject())
        {
            var list = new List<JsonObject>(InstanceCount(attribute.Value));
            var code = NoTimeCode;
            foreach (var item in attribute.Value.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Object)
                {
                    code = TimeCode(new ParsedJson(item));
                    continue;
                }
                string? createdAt = null, modifiedAt = null;
                if (code.Created >= 0)
                {
                    times ??= new InstanceTimes(entity.CreatedAt, entity.ModifiedAt, head.ListedTimes());
                    (createdAt, modifiedAt) = (times[code.Created], times[code.Modified]);
                }
                var instance = Instance(item, createdAt, modifiedAt);
                // An instance stored without a time code whose last two members were the times would be coded by a
                // whole encode; it is left to it, so that a reused instance is always written as a whole encode writes it.
                if (decoded is not null && (createdAt is not null || !item.TryGetProperty("modifiedAt"u8, out _)))
                    decoded.Add(instance, new DecodedMembers(item, createdAt, modifiedAt));
                list.Add(instance);
                code = NoTimeCode;
            }
            entity.Attributes[Iri(new ParsedName(attribute), head.KeepNames)] = list;
        }
        return entity;
    }

    /// <summary>The instances (objects) of an attribute's stored array, which also holds their time codes.</summary>
    private static int InstanceCount(JsonElement instances)
    {
        var count = 0;
        foreach (var item in instances.EnumerateArray())
            if (item.ValueKind == JsonValueKind.Object) count++;
        return count;
    }

    /// <summary>
    /// An instance from its stored members, and its times appended when it had them, built at its final size: each
    /// member a node over its element (objects and arrays materialized when first read), common names not allocated.
    /// </summary>
    private static JsonObject Instance(JsonElement members, string? created, string? modified)
    {
        var count = members.GetPropertyCount() + (created is null ? 0 : 2);
        // The object takes its size from the collection and copies it: one buffer per thread serves every instance.
        var buffer = t_members is { } kept && kept.Length >= count ? kept : t_members = new KeyValuePair<string, JsonNode?>[Math.Max(count, 16)];
        var properties = new ArraySegment<KeyValuePair<string, JsonNode?>>(buffer, 0, count);
        var next = 0;
        foreach (var member in members.EnumerateObject())
            properties[next++] = new(MemberName(member), member.Value.ValueKind switch
            {
                JsonValueKind.Object => JsonObject.Create(member.Value),
                JsonValueKind.Array => JsonArray.Create(member.Value),
                _ => JsonValue.Create(member.Value),
            });
        if (created is not null)
        {
            properties[next++] = new("createdAt", created);
            properties[next] = new("modifiedAt", modified);
        }
        var instance = new JsonObject(properties);
        properties.AsSpan().Clear(); // the buffer holds no node past its instance
        return instance;
    }

    [ThreadStatic] private static KeyValuePair<string, JsonNode?>[]? t_members;

    /// <summary>The member names most instances hold, as one string each instead of one per decoded instance.</summary>
    private static readonly (byte[] Utf8, string Name)[] CommonMembers =
        [.. new[] { "type", "value", "observedAt", "unitCode", "object", "datasetId", "objectType", "languageMap", "vocab", "valueList", "objectList", "json" }
            .Select(name => (Encoding.UTF8.GetBytes(name), name))];

    private static string MemberName(JsonProperty member)
    {
        foreach (var (utf8, name) in CommonMembers)
            if (member.NameEquals(utf8)) return name;
        return member.Name;
    }

    /// <summary>
    /// The stored document as a <see cref="StoredEntity"/> over it, for rendering without an <see cref="Entity"/>: the
    /// entity's members are read and each instance is marked where it stands in the document (<see cref="StoredElement"/>:
    /// no <see cref="JsonDocument"/>, no tokenizer). A document in <see cref="EntityJson"/>'s form is read whole and viewed
    /// in the compact form.
    /// </summary>
    public static StoredEntity Read(byte[] utf8)
    {
        if (!utf8.AsSpan().StartsWith(CompactStartUtf8)) utf8 = EncodeUtf8(Decode(utf8));
        // One walk along the document, which has no whitespace: each value is found where the one before it ends, and
        // only an instance's extent is searched for (its brackets matched outside strings), never a container's around it.
        var head = new Head<StoredElement>();
        var at = 1; // after the document's opening brace
        while (utf8[at] == '"')
        {
            var name = StoredElement.At(utf8, at);
            at = name.Next + 1; // after the colon
            if (name.ValueEquals("a"u8)) break; // Encode writes the attributes last
            var value = StoredElement.At(utf8, at);
            at = value.Next + (utf8[value.Next] == ',' ? 1 : 0);
            head.Take(name, value);
        }
        var view = new StoredEntity(head.Id!)
        {
            CreatedAt = head.CreatedAt, ModifiedAt = head.ModifiedAt, ExpiresAt = head.ExpiresAt, ListedTimes = head.ListedTimes(), Scopes = head.ScopeList(),
        };
        head.AddTypes(view.Types);
        if (utf8[at] != '{') return view; // no attributes
        // Only a document naming expiresAt can hold a transient instance: the others' instances are not looked into.
        var mayExpire = NamesExpiresAt(utf8);
        at++;
        while (utf8[at] == '"')
        {
            var name = StoredElement.At(utf8, at);
            at = name.Next + 2; // after the colon and the array's opening bracket
            var first = view.Instances.Count;
            var code = NoTimeCode;
            while (utf8[at] != ']')
            {
                var item = StoredElement.At(utf8, at);
                at = item.Next + (utf8[item.Next] == ',' ? 1 : 0);
                if (item.Kind != JsonValueKind.Object)
                {
                    code = TimeCode(item);
                    continue;
                }
                view.Instances.Add(new StoredInstance(item, code.Created, code.Modified));
                if (mayExpire && !view.HasTransientInstance && item.TryGetMember(ExpiresAtNameUtf8, out _)) view.HasTransientInstance = true;
                code = NoTimeCode;
            }
            at += utf8[at + 1] == ',' ? 2 : 1; // after the bracket and a comma
            view.Attributes.Add(new StoredAttribute(Iri(name, head.KeepNames), first, view.Instances.Count - first));
        }
        return view;
    }

    /// <summary>The document in <see cref="EntityJson"/>'s form, as change records hand it out.</summary>
    public static string? Json(string? doc) =>
        doc is null || !doc.StartsWith(CompactStart, StringComparison.Ordinal) ? doc : Encoding.UTF8.GetString(EntityJson.Serialize(Decode(doc)));

    /// <summary>
    /// The document's members before its attributes (<c>a</c>), as both readers take them: the decode over a parsed
    /// element and <see cref="Read"/> over the stored bytes. Each reader walks the members its own way (Read stops before
    /// the attributes without finding their end) and hands each here; the lists are read after the walk, when it is
    /// known whether every name is kept whole (<c>f</c>).
    /// </summary>
    private struct Head<TJson> where TJson : struct, IJsonView<TJson>
    {
        public string? Id;
        public bool KeepNames;
        public DateTimeOffset CreatedAt, ModifiedAt;
        public DateTimeOffset? ExpiresAt;
        private TJson _types, _scopes, _listedTimes;

        public void Take<TName>(TName name, TJson value) where TName : struct, IJsonText
        {
            if (name.ValueEquals("i"u8)) Id = value.GetString();
            else if (name.ValueEquals("f"u8)) KeepNames = true;
            else if (name.ValueEquals("y"u8)) _types = value;
            else if (name.ValueEquals("s"u8)) _scopes = value;
            else if (name.ValueEquals("c"u8)) CreatedAt = ReadTime(value);
            else if (name.ValueEquals("m"u8)) ModifiedAt = ReadTime(value);
            else if (name.ValueEquals(ExpiresAtNameUtf8)) ExpiresAt = value.GetDateTimeOffset();
            else if (name.ValueEquals("t"u8)) _listedTimes = value;
        }

        public readonly void AddTypes(List<string> types)
        {
            foreach (var type in new JsonItems<TJson>(_types)) types.Add(Iri(type, KeepNames));
        }

        /// <summary>The scopes; null when the document has none (not an empty list).</summary>
        public readonly List<string>? ScopeList()
        {
            if (_scopes.Kind != JsonValueKind.Array) return null;
            var scopes = new List<string>(_scopes.GetArrayLength());
            foreach (var scope in new JsonItems<TJson>(_scopes)) scopes.Add(scope.GetString());
            return scopes;
        }

        /// <summary>The instance times listed beyond the entity's own (<see cref="InstanceTimes"/>); null when none are.</summary>
        public readonly string[]? ListedTimes()
        {
            if (_listedTimes.Kind != JsonValueKind.Array) return null;
            var listed = new string[_listedTimes.GetArrayLength()];
            var next = 0;
            foreach (var time in new JsonItems<TJson>(_listedTimes)) listed[next++] = time.GetString();
            return listed;
        }
    }

    /// <summary>No time code: the instance keeps its times among its members, if it has them.</summary>
    private static (int Created, int Modified) NoTimeCode => (-1, -1);

    /// <summary>An item of an attribute's array that is not an instance: the time code of the instance after it (one index for both times, or a pair).</summary>
    private static (int Created, int Modified) TimeCode<TJson>(TJson code) where TJson : struct, IJsonView<TJson>
    {
        if (code.Kind != JsonValueKind.Array)
        {
            var index = code.GetInt32();
            return (index, index);
        }
        var pair = new JsonItems<TJson>(code);
        pair.MoveNext();
        var created = pair.Current.GetInt32();
        pair.MoveNext();
        return (created, pair.Current.GetInt32());
    }

    /// <summary>A type or attribute name as the document holds it, expanded: as it stands when the document keeps every name whole (<c>f</c>).</summary>
    private static string Iri<TName>(TName name, bool keepNames) where TName : struct, IJsonText =>
        keepNames ? name.GetString() : Long(name.RawText) ?? Long(name.GetString());

    /// <summary>The instance's createdAt and modifiedAt when they are its last two members and strings; else null.</summary>
    private static (string Created, string Modified)? TrailingTimes(JsonObject instance)
    {
        var count = instance.Count;
        if (count < 2) return null;
        var (createdName, created) = instance.GetAt(count - 2);
        var (modifiedName, modified) = instance.GetAt(count - 1);
        return createdName == "createdAt" && modifiedName == "modifiedAt"
               && created is JsonValue c && c.GetValueKind() == JsonValueKind.String
               && modified is JsonValue m && m.GetValueKind() == JsonValueKind.String
            ? (c.GetValue<string>(), m.GetValue<string>())
            : null;
    }

    private static int IndexOf(List<string> times, string time)
    {
        var index = times.IndexOf(time);
        if (index >= 0) return index;
        times.Add(time);
        return times.Count - 1;
    }

    /// <summary>Writes <paramref name="instance"/> without its last <paramref name="dropped"/> members.</summary>
    private static void WriteWithout(Utf8JsonWriter writer, JsonObject instance, int dropped)
    {
        writer.WriteStartObject();
        for (var i = 0; i < instance.Count - dropped; i++)
        {
            var (name, value) = instance.GetAt(i);
            writer.WritePropertyName(name);
            if (value is null) writer.WriteNullValue(); else value.WriteTo(writer);
        }
        writer.WriteEndObject();
    }

    private static void WriteTime(Utf8JsonWriter writer, string name, DateTimeOffset time)
    {
        if (time.Offset == TimeSpan.Zero) writer.WriteNumber(name, time.UtcTicks);
        else writer.WriteString(name, time);
    }

    /// <summary>A time as <see cref="WriteTime"/> wrote it: UTC ticks, or a string with its offset.</summary>
    private static DateTimeOffset ReadTime<TJson>(TJson time) where TJson : struct, IJsonView<TJson> =>
        time.Kind == JsonValueKind.Number ? new DateTimeOffset(time.GetInt64(), TimeSpan.Zero) : time.GetDateTimeOffset();

    private static bool IsMarked(string name) => name.StartsWith('=') || name.StartsWith(':');

    private static string Short(string iri) =>
        iri.StartsWith(DefaultContext, StringComparison.Ordinal) ? string.Concat("=", iri.AsSpan(DefaultContext.Length))
        : iri.StartsWith(CoreNamespace, StringComparison.Ordinal) ? string.Concat(":", iri.AsSpan(CoreNamespace.Length))
        : iri;

    /// <summary>
    /// Expanded names by their compact form: types and attribute names repeat from entity to entity, so each is expanded
    /// once, not in every decode (bounded: beyond <see cref="MaxLongNames"/> names they are expanded each time).
    /// </summary>
    private static readonly ConcurrentDictionary<string, string> LongNames = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> LongNamesByChars =
        LongNames.GetAlternateLookup<ReadOnlySpan<char>>();
    private const int MaxLongNames = 10_000;

    /// <summary>A compact name, as its stored UTF-8 text, expanded through <see cref="LongNames"/>; null when it is escaped or long.</summary>
    private static string? Long(ReadOnlySpan<byte> stored)
    {
        if (stored.Length > 256 || stored.Contains((byte)'\\')) return null;
        Span<char> chars = stackalloc char[stored.Length];
        chars = chars[..Encoding.UTF8.GetChars(stored, chars)];
        if (LongNamesByChars.TryGetValue(chars, out var iri)) return iri;
        var name = chars.ToString();
        iri = Long(name);
        if (LongNames.Count < MaxLongNames) LongNames.TryAdd(name, iri);
        return iri;
    }

    private static string Long(string name) =>
        name.Length == 0 ? name
        : name[0] == '=' ? string.Concat(DefaultContext, name.AsSpan(1))
        : name[0] == ':' ? string.Concat(CoreNamespace, name.AsSpan(1))
        : name;
}

/// <summary>
/// The instances a decode for a write made (<see cref="SqliteEntityForm.DecodeForWrite"/>), in stored order, each with
/// its stored members and its times. An instance is found by the object itself, so one the write replaced (a new
/// object) is never taken for its old one.
/// </summary>
internal sealed class DecodedInstances
{
    private readonly List<(JsonObject Instance, DecodedMembers Members)> _instances = [];

    /// <summary>Makes room for the document's instances at once (the decode knows their number before it makes them).</summary>
    public void Expect(int count) => _instances.Capacity = count;

    /// <summary>
    /// How far around the expected place an instance is looked for: a write keeps the others in their order, so the
    /// look-up is short, and one it cannot place (moved further, or new) is encoded whole, which is never wrong.
    /// </summary>
    private const int Before = 2, After = 4;

    public void Add(JsonObject instance, DecodedMembers members) => _instances.Add((instance, members));

    /// <summary>The index of the decoded instance near <paramref name="expected"/> that is <paramref name="instance"/>; -1 if none.</summary>
    public int Find(JsonObject instance, int expected)
    {
        for (var at = Math.Max(0, expected - Before); at < Math.Min(_instances.Count, expected + After); at++)
            if (ReferenceEquals(_instances[at].Instance, instance)) return at;
        return -1;
    }

    public DecodedMembers this[int index] => _instances[index].Members;
}

/// <summary>
/// The instances an encode wrote from their objects (<see cref="SqliteEntityForm.EncodeUtf8"/>), each with where it stands
/// in the document and the times its code stands for (null: none, it was written whole): its members as the stored
/// document holds them, which its history row stores again. One per writer thread, refilled by every encode.
/// </summary>
internal sealed class EncodedInstances
{
    private readonly List<(JsonObject Instance, int Start, int End, string? Created, string? Modified)> _instances = [];
    private int _next;

    public void Clear()
    {
        _instances.Clear();
        _next = 0;
    }

    public void Add(JsonObject instance, int start, int end, string? created, string? modified) => _instances.Add((instance, start, end, created, modified));

    /// <summary>
    /// Where <paramref name="instance"/> (that object) was written: its members from <c>Start</c> to <c>End</c>, and its
    /// times when the encode coded them instead. Looked for from after the last one found: a write's history follows its
    /// attributes' order.
    /// </summary>
    public (int Start, int End, string? Created, string? Modified)? Find(JsonObject instance)
    {
        for (var i = 0; i < _instances.Count; i++)
        {
            var at = (_next + i) % _instances.Count;
            if (!ReferenceEquals(_instances[at].Instance, instance)) continue;
            _next = at + 1;
            var (_, start, end, created, modified) = _instances[at];
            return (start, end, created, modified);
        }
        return null;
    }
}

/// <summary>An instance's stored members (without its times) and the times it was decoded with (null: none).</summary>
internal readonly record struct DecodedMembers(JsonElement Members, string? Created, string? Modified);
