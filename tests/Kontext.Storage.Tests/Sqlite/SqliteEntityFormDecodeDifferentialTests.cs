using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Formats;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Storage.Sqlite;

namespace Kontext.Storage.Tests.Sqlite;

/// <summary>
/// Issue 12, session 7: <see cref="SqliteEntityForm"/> reads the compact form through one JsonElement instead of a
/// JsonNode tree of the whole document. Differential: the decoder before that change (kept here as the oracle) and the
/// one now give entities that serialize and render byte for byte alike, in every representation and projection.
/// </summary>
public sealed class SqliteEntityFormDecodeDifferentialTests
{
    private static readonly DateTimeOffset Created = new(2024, 2, 1, 10, 0, 0, 123, TimeSpan.Zero);

    private static readonly string[] Bodies =
    [
        """{"id":"urn:ngsi-ld:AirQualityObserved:1","type":"AirQualityObserved","no2":{"type":"Property","value":89.44,"unitCode":"GQ","observedAt":"2025-01-08T05:39:02Z"},"location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[-3.72,40.45]}}}""",
        """{"id":"urn:ngsi-ld:T:2","type":["T","https://example.org/U"],"scope":["/a/b","/c"],"n":[{"type":"Property","value":1},{"type":"Property","value":2,"datasetId":"urn:ngsi-ld:D:1"}]}""",
        """{"id":"urn:ngsi-ld:T:3","type":"T","name":{"type":"LanguageProperty","languageMap":{"en":"Car","de":"Auto"}},"owner":{"type":"Relationship","object":"urn:ngsi-ld:P:1","providedBy":{"type":"Relationship","object":"urn:ngsi-ld:P:2"}}}""",
        """{"id":"urn:ngsi-ld:T:4","type":"T","expiresAt":"2030-01-01T00:00:00Z","speed":{"type":"Property","value":{"a":[1,2.50,1e3,-0.0,"x\"y é \u00e9 <&>"]},"accuracy":{"type":"Property","value":0.1,"unitCode":"MTS"}}}""",
        """{"id":"urn:ngsi-ld:T:5","type":"T","category":{"type":"VocabProperty","vocab":["Sensor","https://example.org/Other"]},"list":{"type":"ListProperty","valueList":[1,"b",null]},"json":{"type":"JsonProperty","json":{"k":null,"type":"x"}}}""",
        """{"id":"urn:ngsi-ld:T:6","type":"T","linked":{"type":"ListRelationship","objectList":[{"object":"urn:ngsi-ld:P:1"},{"object":"urn:ngsi-ld:P:2"}],"objectType":"Person"},"https://uri.etsi.org/ngsi-ld/name":{"type":"Property","value":"core"}}""",
        """{"id":"urn:ngsi-ld:T:7","type":"T","geo":{"type":"Property","value":{"type":"Point","coordinates":[1,2]}},"plain":{"type":"Property","value":[1,2,3]},"obj":{"type":"Property","value":{"value":1}}}""",
    ];

    private static readonly RenderOptions[] Views =
    [
        new(),
        new(SysAttrs: true),
        new(RenderFormat.KeyValues),
        new(RenderFormat.KeyValues, SysAttrs: true, Lang: LanguageSelector.Parse("de")),
        new(RenderFormat.Concise),
        new(RenderFormat.Concise, SysAttrs: true),
        new(Lang: LanguageSelector.Parse("en")),
        new(Projection: new Projection(Only: new HashSet<string> { "https://uri.etsi.org/ngsi-ld/default-context/no2", "https://uri.etsi.org/ngsi-ld/default-context/n" })),
        new(Projection: new Projection(Type: false, Omitted: new HashSet<string> { "https://uri.etsi.org/ngsi-ld/default-context/name" })),
        new(Projection: Projection.All with { DatasetIds = new HashSet<string> { "urn:ngsi-ld:D:1" } }),
    ];

    public static TheoryData<int> Cases() => new(Enumerable.Range(0, Bodies.Length + 1));

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_decoder_gives_the_entity_the_tree_decoder_gave_in_every_representation(int index)
    {
        foreach (var entity in Versions(index))
        {
            var doc = SqliteEntityForm.Encode(entity);
            var before = TreeDecoder.Decode(doc);
            foreach (var now in new[] { SqliteEntityForm.Decode(doc), SqliteEntityForm.Decode(Encoding.UTF8.GetBytes(doc)) })
            {
                Text(EntityJson.Serialize(now)).Should().Be(Text(EntityJson.Serialize(before)));
                (now.CreatedAt, now.CreatedAt.Offset, now.ModifiedAt, now.ModifiedAt.Offset, now.ExpiresAt)
                    .Should().Be((before.CreatedAt, before.CreatedAt.Offset, before.ModifiedAt, before.ModifiedAt.Offset, before.ExpiresAt));
                foreach (var view in Views)
                    Render(now, view).Should().Be(Render(before, view), $"the answer with {view} stays as it was");
            }
        }
    }

    [Fact]
    public void A_document_in_the_whole_form_is_read_from_its_bytes_as_from_its_text()
    {
        var entity = Stamped(Bodies[2]);
        var whole = Text(EntityJson.Serialize(entity));
        Text(EntityJson.Serialize(SqliteEntityForm.Decode(Encoding.UTF8.GetBytes(whole)))).Should().Be(whole);
    }

    [Fact]
    public void Instances_read_from_the_document_can_be_changed_and_moved_like_any_other()
    {
        var entity = SqliteEntityForm.Decode(SqliteEntityForm.Encode(Stamped(Bodies[1])));
        var instance = entity.Attributes.Values.First()[0];
        instance["value"] = 5; // a write changes decoded instances in place
        instance.Parent.Should().BeNull("each instance belongs to the entity alone");
        new JsonObject { ["moved"] = instance.DeepClone() }.ToJsonString().Should().Contain("\"value\":5");
    }

    /// <summary>The bodies as the core stamps them, then each with an update an hour later and a hand-made odd one.</summary>
    private static IEnumerable<Entity> Versions(int index)
    {
        if (index == Bodies.Length)
        {
            yield return Odd();
            yield break;
        }
        var entity = Stamped(Bodies[index]);
        yield return entity.Clone();
        var later = new EntityOperations(Created.AddHours(1));
        var name = entity.Attributes.Keys.First();
        later.Append(entity, new Entity(entity.Id) { Attributes = { [name] = [new JsonObject { ["type"] = "Property", ["value"] = 7 }] } }, noOverwrite: false);
        yield return entity;
    }

    /// <summary>Times, offsets and names the core would not make: every name kept whole, extra times listed in "t".</summary>
    private static Entity Odd()
    {
        var entity = new Entity("urn:ngsi-ld:T:odd")
        {
            Types = ["=notPrefixed", "https://uri.etsi.org/ngsi-ld/default-context/T"],
            Scopes = ["/x"],
            CreatedAt = new DateTimeOffset(2024, 2, 1, 10, 0, 0, TimeSpan.FromHours(2)).AddTicks(1234567),
            ModifiedAt = Created.AddTicks(9),
            ExpiresAt = new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero),
        };
        entity.Attributes[":a"] = [Node("""{"type":"Property","value":1,"createdAt":"2020-01-01T00:00:00.000Z","modifiedAt":"2021-01-01T00:00:00.000Z"}""")];
        entity.Attributes["https://uri.etsi.org/ngsi-ld/b"] =
        [
            Node("""{"type":"Property","modifiedAt":"2021-01-01T00:00:00.000Z","createdAt":"2020-01-01T00:00:00.000Z","value":1}"""),
            Node("""{"type":"Property","value":2,"createdAt":5,"modifiedAt":"2021-01-01T00:00:00.000Z","datasetId":"urn:d"}"""),
            Node("""{"type":"Property","value":3,"datasetId":"urn:e","createdAt":"2019-01-01T00:00:00Z","modifiedAt":"2021-01-01T00:00:00.000Z"}"""),
        ];
        return entity;
    }

    private static string Render(Entity entity, RenderOptions options)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            new EntityRenderer(ContextProcessor.Core, options).WriteEntity(writer, entity);
        return Text(buffer.WrittenSpan.ToArray());
    }

    private static string Text(byte[] utf8) => Encoding.UTF8.GetString(utf8);

    private static JsonObject Node(string json) => JsonNode.Parse(json)!.AsObject();

    private static Entity Stamped(string body)
    {
        var parsed = EntityParser.ParseEntity(Node(body), ContextProcessor.Core, ParseMode.Full);
        return new EntityOperations(Created.AddTicks(4567)).Create(parsed);
    }

    /// <summary>The decoder of schema step 10 as it was (a JsonNode tree of the whole document, taken apart): the oracle.</summary>
    private static class TreeDecoder
    {
        private const string DefaultContext = "https://uri.etsi.org/ngsi-ld/default-context/";
        private const string CoreNamespace = "https://uri.etsi.org/ngsi-ld/";

        public static Entity Decode(string doc)
        {
            var root = StoredJson.Parse(doc)!.AsObject();
            var keepNames = root["f"] is not null;
            var entity = new Entity(root["i"]!.GetValue<string>())
            {
                Types = root["y"]!.AsArray().Select(t => Long(t!.GetValue<string>(), keepNames)).ToList(),
                Scopes = root["s"]?.AsArray().Select(s => s!.GetValue<string>()).ToList(),
                CreatedAt = ReadTime(root["c"]!),
                ModifiedAt = ReadTime(root["m"]!),
                ExpiresAt = root["expiresAt"]?.GetValue<DateTimeOffset>(),
            };
            if (root["a"] is not JsonObject attrs) return entity;
            string[]? times = null;
            foreach (var (name, element) in attrs)
            {
                var array = element!.AsArray();
                var list = new List<JsonObject>(array.Count);
                (int Created, int Modified)? code = null;
                foreach (var item in array)
                {
                    switch (item)
                    {
                        case JsonObject instance:
                            if (code is var (created, modified))
                            {
                                times ??= Times(entity, root["t"] as JsonArray);
                                instance.Add("createdAt", times[created]);
                                instance.Add("modifiedAt", times[modified]);
                                code = null;
                            }
                            list.Add(instance);
                            break;
                        case JsonArray pair:
                            code = (pair[0]!.GetValue<int>(), pair[1]!.GetValue<int>());
                            break;
                        default:
                            var index = item!.GetValue<int>();
                            code = (index, index);
                            break;
                    }
                }
                array.Clear();
                entity.Attributes[Long(name, keepNames)] = list;
            }
            return entity;
        }

        private static string[] Times(Entity entity, JsonArray? extra)
        {
            var times = new string[2 + (extra?.Count ?? 0)];
            times[0] = Validate.Format(entity.CreatedAt);
            times[1] = Validate.Format(entity.ModifiedAt);
            for (var i = 2; i < times.Length; i++) times[i] = extra![i - 2]!.GetValue<string>();
            return times;
        }

        private static DateTimeOffset ReadTime(JsonNode node) =>
            node.GetValueKind() == JsonValueKind.Number ? new DateTimeOffset(node.GetValue<long>(), TimeSpan.Zero) : node.GetValue<DateTimeOffset>();

        private static string Long(string name, bool keepNames) =>
            keepNames || name.Length == 0 ? name
            : name[0] == '=' ? string.Concat(DefaultContext, name.AsSpan(1))
            : name[0] == ':' ? string.Concat(CoreNamespace, name.AsSpan(1))
            : name;
    }
}
