using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Formats;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Storage.Sqlite;

namespace Kontext.Storage.Tests.Sqlite;

/// <summary>
/// Issue 12, session 10: a plain Retrieve Entity is rendered straight from the stored document
/// (<see cref="SqliteEntityForm.Read"/>, <see cref="EntityRenderer.WriteEntity(Utf8JsonWriter, StoredEntity, JsonNode?)"/>).
/// Differential: for generated entities of every attribute kind, as created and after updates, the stored view renders
/// byte for byte as the decoded <see cref="Entity"/> does, in every representation and projection the view covers,
/// under the core context and a user context that renames terms.
/// </summary>
public sealed class StoredEntityRenderDifferentialTests
{
    private static readonly DateTimeOffset Created = new(2024, 2, 1, 10, 0, 0, 123, TimeSpan.Zero);
    private const string Default = "https://uri.etsi.org/ngsi-ld/default-context/";

    private static readonly Projection[] Projections =
    [
        Projection.All,
        new(Only: new HashSet<string> { Default + "a0", Default + "a3", "https://example.org/full" }),
        new(Scope: true, Only: new HashSet<string> { Default + "nothere" }),
        new(Id: false, Type: false, Scope: false, Only: new HashSet<string> { Default + "a1" }),
        new(Type: false, Omitted: new HashSet<string> { Default + "a2", "https://uri.etsi.org/ngsi-ld/name" }),
    ];

    private static readonly RenderOptions[] Views =
    [
        .. from format in new[] { RenderFormat.Normalized, RenderFormat.Concise, RenderFormat.KeyValues }
           from sysAttrs in new[] { false, true }
           from projection in Projections
           select new RenderOptions(format, sysAttrs, Projection: projection),
    ];

    private static readonly Lazy<JsonLdContext> UserContext = new(() => new ContextProcessor(new NoRemoteContexts())
        .ProcessAsync(JsonNode.Parse("""
            {"A0":"https://uri.etsi.org/ngsi-ld/default-context/a0","ex":"https://example.org/","Thing":"https://example.org/Thing",
             "Sub":"https://uri.etsi.org/ngsi-ld/default-context/s1","Kind":"https://example.org/Kind"}
            """), default).AsTask().GetAwaiter().GetResult());

    public static TheoryData<int> Seeds() => new(Enumerable.Range(0, 40));

    [Theory]
    [MemberData(nameof(Seeds))]
    public void The_stored_view_renders_as_the_entity_in_every_covered_view(int seed)
    {
        var random = new Random(seed);
        foreach (var entity in Versions(random))
        {
            var doc = Encoding.UTF8.GetBytes(SqliteEntityForm.Encode(entity));
            var decoded = SqliteEntityForm.Decode(doc);
            var stored = SqliteEntityForm.Read(doc);
            stored.HasTransientInstance.Should().BeFalse();
            foreach (var context in new[] { ContextProcessor.Core, UserContext.Value })
            {
                foreach (var view in Views)
                {
                    EntityRenderer.CoversStored(view).Should().BeTrue();
                    EntityRenderer.LeavesNothingOf(view.Fields, stored).Should().Be(view.Fields.LeavesNothingOf(decoded));
                    var body = seed % 2 == 0 ? null : JsonNode.Parse("""["https://example.org/ctx.jsonld"]""");
                    Render(w => new EntityRenderer(context, view).WriteEntity(w, stored, body))
                        .Should().Be(Render(w => new EntityRenderer(context, view).WriteEntity(w, decoded, body)),
                            $"seed {seed}, {view.Format}, sysAttrs {view.SysAttrs}, {view.Fields}");
                }
            }
        }
    }

    [Fact]
    public void A_document_in_the_whole_form_and_one_with_every_name_kept_render_alike()
    {
        var entity = Versions(new Random(7)).Last();
        entity.Types.Add("=marked"); // a name beginning with a marker keeps every name whole ("f":1)
        foreach (var doc in new[] { SqliteEntityForm.Encode(entity), Encoding.UTF8.GetString(EntityJson.Serialize(entity)) })
        {
            var stored = SqliteEntityForm.Read(Encoding.UTF8.GetBytes(doc));
            var view = new RenderOptions(SysAttrs: true);
            Render(w => new EntityRenderer(ContextProcessor.Core, view).WriteEntity(w, stored))
                .Should().Be(Render(w => new EntityRenderer(ContextProcessor.Core, view).WriteEntity(w, entity)));
        }
    }

    /// <summary>
    /// Members a parsed entity seldom or never carries, built straight into the entity: system times that are not an
    /// instance's last two members (kept in its members), deletedAt, the vocabulary members beside vocab and objectType,
    /// core members the walks only know as core (instanceId, lang, valueType), an attribute type no walk names, a
    /// sub-attribute that is no object, and a concise Property whose value holds "type" or is a GeometryCollection.
    /// </summary>
    [Fact]
    public void Rare_members_and_types_render_alike()
    {
        var entity = new Entity("urn:ngsi-ld:Thing:rare") { Types = ["https://example.org/Kind"], CreatedAt = Created, ModifiedAt = Created.AddHours(1) };
        entity.Attributes[Default + "a0"] =
        [
            Instance("""{"type":"Property","value":1,"createdAt":"2024-01-01T00:00:00Z","observedAt":"2024-01-02T00:00:00Z","modifiedAt":"2024-01-03T00:00:00Z","deletedAt":"2024-01-04T00:00:00Z"}"""),
        ];
        entity.Attributes[Default + "a1"] =
        [
            Instance("""{"type":"VocabProperty","vocab":"https://example.org/Thing","previousVocab":["https://example.org/Kind","x"],"instanceId":"urn:ngsi-ld:i:1"}"""),
        ];
        entity.Attributes["https://uri.etsi.org/ngsi-ld/ngsildproof"] =
        [
            Instance("""{"type":"JsonProperty","json":{"k":1},"entityIdSealed":"urn:ngsi-ld:Thing:rare","entityTypeSealed":["https://example.org/Kind"]}"""),
        ];
        entity.Attributes[Default + "a2"] =
        [
            Instance("""{"type":"Mystery","value":"x","lang":"en","valueType":"https://example.org/Kind","https://uri.etsi.org/ngsi-ld/default-context/s1":3}"""),
        ];
        entity.Attributes[Default + "a3"] = [Instance("""{"type":"Property","value":{"type":"Feature","k":1}}""")];
        entity.Attributes[Default + "a4"] =
        [
            Instance("""{"type":"Property","value":{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2]}]}}"""),
        ];
        var doc = Encoding.UTF8.GetBytes(SqliteEntityForm.Encode(entity));
        var decoded = SqliteEntityForm.Decode(doc);
        var stored = SqliteEntityForm.Read(doc);
        foreach (var context in new[] { ContextProcessor.Core, UserContext.Value })
        {
            foreach (var view in Views)
            {
                Render(w => new EntityRenderer(context, view).WriteEntity(w, stored))
                    .Should().Be(Render(w => new EntityRenderer(context, view).WriteEntity(w, decoded)), $"{view.Format}, sysAttrs {view.SysAttrs}, {view.Fields}");
            }
        }

        static JsonObject Instance(string json) => JsonNode.Parse(json)!.AsObject();
    }

    /// <summary>
    /// Issue 12, session 14: the view reads the stored bytes with a reader and writes a value that holds no escape as it
    /// stands, anything escaped token by token. Names and values that the stored form escapes (non-ASCII, HTML's
    /// characters, quotes, controls, a string longer than the stack buffer) in types, scopes, attribute and sub-attribute
    /// names, datasetIds and values; members in an order the parser never gives (type last, no type); nested arrays.
    /// </summary>
    [Theory]
    [MemberData(nameof(Seeds))]
    public void Escaped_names_and_values_and_members_in_any_order_render_alike(int seed)
    {
        var random = new Random(seed);
        var odd = new[] { "naïve", "a<b>&'c", "q\"uote", "tab\tnew\nline", "日本", "emoji \ud83d\ude00", "plus+`tick`", new string('é', 200) + "\\end" };
        string Odd() => odd[random.Next(odd.Length)];
        var entity = new Entity($"urn:ngsi-ld:Thing:{Odd()}")
        {
            Types = [Default + "T" + Odd(), "https://example.org/" + Odd()],
            Scopes = random.Next(2) == 0 ? ["/" + Odd()] : ["/a", "/é/" + random.Next(9)],
            CreatedAt = Created,
            ModifiedAt = Created.AddMinutes(random.Next(100)),
        };
        JsonObject Instance(string json) => JsonNode.Parse(json)!.AsObject();
        string Quoted(string text) => JsonSerializer.Serialize(text);
        entity.Attributes[Default + Odd()] = [Instance($$"""{"type":"Property","value":{{Quoted(Odd())}},"unitCode":{{Quoted(Odd())}}}""")];
        entity.Attributes[Default + "late"] =
        [
            Instance($$"""{"value":{"k":[1,{{Quoted(Odd())}},[true,false,null]],{{Quoted(Odd())}}:2.50},"observedAt":"2025-01-01T00:00:00Z","type":"Property"}"""),
            Instance($$"""{"datasetId":{{Quoted("urn:ngsi-ld:Dataset:" + Odd())}},"object":{{Quoted("urn:ngsi-ld:P:" + Odd())}},"type":"Relationship"}"""),
            Instance($$"""{"datasetId":"urn:ngsi-ld:Dataset:plain","value":-1e-7}"""),
        ];
        entity.Attributes["https://example.org/" + Odd()] =
        [
            Instance($$$"""{"type":"LanguageProperty","languageMap":{"en":{{{Quoted(Odd())}}},"ja":{{{Quoted(Odd())}}}},{{{Quoted(Default + "sub" + Odd())}}}:{"type":"Property","value":{{{Quoted(Odd())}}}}}"""),
        ];
        entity.Attributes[Default + "list"] =
        [
            Instance($$"""{"type":"ListRelationship","objectList":[{"object":{{Quoted("urn:ngsi-ld:P:" + Odd())}}},"urn:ngsi-ld:P:2"]}"""),
        ];
        entity.Attributes[Default + "vocab"] = [Instance($$"""{"type":"VocabProperty","vocab":[{{Quoted(Default + Odd())}},"https://example.org/x"]}""")];
        var doc = Encoding.UTF8.GetBytes(SqliteEntityForm.Encode(entity));
        var decoded = SqliteEntityForm.Decode(doc);
        var stored = SqliteEntityForm.Read(doc);
        foreach (var context in new[] { ContextProcessor.Core, UserContext.Value })
        {
            foreach (var view in Views)
            {
                var body = seed % 2 == 0 ? null : JsonNode.Parse("""{"@context":{"x":"https://example.org/x"}}""");
                Render(w => new EntityRenderer(context, view).WriteEntity(w, stored, body))
                    .Should().Be(Render(w => new EntityRenderer(context, view).WriteEntity(w, decoded, body)),
                        $"seed {seed}, {view.Format}, sysAttrs {view.SysAttrs}, {view.Fields}");
            }
        }
    }

    /// <summary>
    /// Issue 12, session 16: the stored walk keeps up to 12 members of an instance on the stack and walks an instance
    /// with more a second time; a user context whose terms swap sub-attribute names or claim a name the core gives members of
    /// its own or that hold characters an encoder escapes; core names escaped in the document (read only by unescaping them).
    /// </summary>
    [Fact]
    public async Task Instances_with_many_members_core_looking_terms_and_escaped_core_names_render_alike()
    {
        var entity = new Entity("urn:ngsi-ld:Thing:many") { Types = [Default + "Thing"], CreatedAt = Created, ModifiedAt = Created.AddTicks(7) };
        foreach (var count in new[] { 11, 12, 13, 20 })
        {
            var members = string.Join(",", Enumerable.Range(0, count).Select(i =>
                $$"""{{JsonSerializer.Serialize(Default + "s" + i)}}:{"type":"Property","value":{{i}},"observedAt":"2025-01-01T00:00:00Z"}"""));
            entity.Attributes[Default + "many" + count] =
                [JsonNode.Parse($$"""{"type":"Property","value":1.5e300,"unitCode":"C62",{{members}}}""")!.AsObject()];
        }
        entity.Attributes[Default + "odd"] =
        [
            JsonNode.Parse("""{"type":"GeoProperty","value":{"type":"Point","coordinates":[1,2]},"unitCode":"u"}""")!.AsObject(),
            JsonNode.Parse("""{"type":"Relationship","object":"urn:x:1","datasetId":"urn:ngsi-ld:Dataset:x","vocab":"https://example.org/Thing"}""")!.AsObject(),
        ];
        var doc = SqliteEntityForm.EncodeUtf8(entity);
        // The same document with "value", "type" and "unitCode" escaped as names where a writer never escapes them.
        var escaped = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(doc)
            .Replace("\"value\":", "\"v\\u0061lue\":").Replace("\"type\":\"Property\"", "\"\\u0074ype\":\"Property\"").Replace("\"unitCode\"", "\"unit\\u0043ode\""));
        escaped.Should().NotEqual(doc);
        var decoded = SqliteEntityForm.Decode(doc);
        var coreLooking = await new ContextProcessor(new NoRemoteContexts()).ProcessAsync(JsonNode.Parse("""
            {"s0":"https://uri.etsi.org/ngsi-ld/default-context/s1","s1":"https://uri.etsi.org/ngsi-ld/default-context/s0",
             "valeur":"https://uri.etsi.org/ngsi-ld/default-context/s2","ex":"https://example.org/","Thing":"https://example.org/Thing",
             "ünï":"https://uri.etsi.org/ngsi-ld/default-context/s3","a<b":"https://uri.etsi.org/ngsi-ld/default-context/s4","unitCode":"https://uri.etsi.org/ngsi-ld/default-context/s5"}
            """), default);
        foreach (var bytes in new[] { doc, escaped })
        {
            var stored = SqliteEntityForm.Read(bytes);
            foreach (var context in new[] { ContextProcessor.Core, UserContext.Value, coreLooking })
            {
                foreach (var view in Views)
                {
                    Render(w => new EntityRenderer(context, view).WriteEntity(w, stored))
                        .Should().Be(Render(w => new EntityRenderer(context, view).WriteEntity(w, decoded)), $"{view.Format}, sysAttrs {view.SysAttrs}, {view.Fields}");
                }
            }
        }
    }

    [Fact]
    public void An_instance_with_its_own_expiresAt_is_flagged_for_the_entity_path()
    {
        var entity = Stamped(new JsonObject
        {
            ["id"] = "urn:ngsi-ld:T:x", ["type"] = "T",
            ["a"] = new JsonObject { ["type"] = "Property", ["value"] = 1, ["expiresAt"] = "2030-01-01T00:00:00Z" },
        });
        var stored = SqliteEntityForm.Read(Encoding.UTF8.GetBytes(SqliteEntityForm.Encode(entity)));
        stored.HasTransientInstance.Should().BeTrue();
    }

    [Fact]
    public void Language_choice_datasetId_filters_and_joins_are_left_to_the_entity_path()
    {
        EntityRenderer.CoversStored(new RenderOptions(Lang: LanguageSelector.Parse("en"))).Should().BeFalse();
        EntityRenderer.CoversStored(new RenderOptions(Projection: Projection.All with { DatasetIds = new HashSet<string> { "@none" } })).Should().BeFalse();
        EntityRenderer.CoversStored(new RenderOptions(Projection: Projection.All with { Linked = new Dictionary<string, Projection> { ["x"] = Projection.All } })).Should().BeFalse();
    }

    /// <summary>A generated entity as created, after an update of some attributes an hour later, and after another a day later.</summary>
    internal static IEnumerable<Entity> Versions(Random random)
    {
        var body = new JsonObject { ["id"] = $"urn:ngsi-ld:Thing:{random.Next(1000)}" };
        body["type"] = random.Next(3) switch { 0 => "Thing", 1 => new JsonArray("Thing", "https://example.org/Other"), _ => "https://example.org/Kind" };
        if (random.Next(3) == 0) body["scope"] = random.Next(2) == 0 ? "/a/b" : new JsonArray("/a", "/c/d");
        if (random.Next(5) == 0) body["expiresAt"] = random.Next(2) == 0 ? "2031-05-06T07:08:09Z" : "2031-05-06T07:08:09.120Z";
        var names = new[] { "a0", "a1", "a2", "a3", "a4", "name", "location", "https://example.org/full" };
        foreach (var name in names.Where(_ => random.Next(3) > 0)) body[name] = Attribute(random, name);
        var entity = Stamped(body);
        yield return entity.Clone();
        foreach (var (hours, round) in new[] { (1, 1), (24, 2) })
        {
            var update = new Entity(entity.Id);
            foreach (var iri in entity.Attributes.Keys.Where(_ => random.Next(2) == 0).ToList())
            {
                var name = ContextProcessor.Core.CompactIri(iri);
                var instance = name == "location" ? new JsonObject { ["type"] = "GeoProperty", ["value"] = Point(random) } : Instance(random, round);
                update.Attributes[iri] = [Parsed(entity.Id, name, instance)];
            }
            new EntityOperations(Created.AddHours(hours).AddTicks(random.Next(10_000) * 10_000L)).Append(entity, update, noOverwrite: false);
            yield return entity.Clone();
        }
    }

    /// <summary>One instance, or several with datasetIds (one may be the default instance).</summary>
    private static JsonNode Attribute(Random random, string name)
    {
        if (name == "location") return new JsonObject { ["type"] = "GeoProperty", ["value"] = Point(random) };
        if (random.Next(4) > 0) return Instance(random, 0);
        var instances = new JsonArray();
        var count = 2 + random.Next(3);
        for (var i = 0; i < count; i++)
        {
            var instance = Instance(random, 0);
            if (i > 0 || random.Next(2) == 0) instance["datasetId"] = $"urn:ngsi-ld:Dataset:{i}";
            instances.Add(instance);
        }
        return instances;
    }

    internal static JsonObject Instance(Random random, int round)
    {
        var instance = random.Next(9) switch
        {
            0 => new JsonObject { ["type"] = "Relationship", ["object"] = "urn:ngsi-ld:P:" + random.Next(9) },
            1 => new JsonObject { ["type"] = "GeoProperty", ["value"] = Point(random) },
            2 => new JsonObject { ["type"] = "LanguageProperty", ["languageMap"] = new JsonObject { ["en"] = "Car", ["de"] = "Auto é \"q\"" } },
            3 => new JsonObject { ["type"] = "VocabProperty", ["vocab"] = random.Next(2) == 0 ? "Thing" : new JsonArray("Kind", "https://example.org/x") },
            4 => new JsonObject { ["type"] = "JsonProperty", ["json"] = JsonNode.Parse("""{"type":"x","value":[1,null,{"k":2.50}]}""") },
            5 => new JsonObject { ["type"] = "ListProperty", ["valueList"] = new JsonArray(1, "b", 2.5) },
            6 => new JsonObject
            {
                ["type"] = "ListRelationship",
                ["objectList"] = new JsonArray(new JsonObject { ["object"] = "urn:ngsi-ld:P:1" }, new JsonObject { ["object"] = "urn:ngsi-ld:P:2" }),
            },
            _ => new JsonObject { ["type"] = "Property", ["value"] = Value(random) },
        };
        var type = instance["type"]!.GetValue<string>();
        if (random.Next(3) == 0) instance["observedAt"] = $"2025-01-0{1 + round}T05:39:02{(random.Next(2) == 0 ? "" : ".500")}Z";
        if (type is "Property" or "GeoProperty" && random.Next(3) == 0) instance["unitCode"] = "MTS";
        if (type is "Relationship" && random.Next(3) == 0) instance["objectType"] = "Thing";
        if (random.Next(3) == 0) instance["s1"] = Sub(random, depth: 0);
        if (random.Next(5) == 0) instance["https://example.org/sub2"] = Sub(random, depth: 0);
        return instance;
    }

    private static JsonObject Sub(Random random, int depth)
    {
        var sub = random.Next(3) switch
        {
            0 => new JsonObject { ["type"] = "Relationship", ["object"] = "urn:ngsi-ld:P:3" },
            1 => new JsonObject { ["type"] = "Property", ["value"] = Value(random), ["unitCode"] = "CEL" },
            _ => new JsonObject { ["type"] = "Property", ["value"] = Value(random) },
        };
        if (depth == 0 && random.Next(3) == 0) sub["s2"] = Sub(random, depth + 1);
        return sub;
    }

    private static JsonNode Value(Random random) => random.Next(10) switch
    {
        0 => JsonNode.Parse("2.50")!,
        1 => JsonNode.Parse("-0.0")!,
        2 => "text \"quoted\" <&> é \u2028",
        3 => true,
        4 => new JsonArray(1, 2, 3),
        5 => JsonNode.Parse("""[{"a":1},2]""")!,
        6 => JsonNode.Parse("""{"value":1,"other":"x"}""")!,
        7 => JsonNode.Parse("""{"k":{"n":[1e3]}}""")!,
        8 => Point(random),
        _ => random.Next(-1000, 1000),
    };

    private static JsonObject Point(Random random) => new()
    {
        ["type"] = "Point",
        ["coordinates"] = new JsonArray(Math.Round(random.NextDouble() * 10, 4), JsonNode.Parse((random.Next(90) + 0.25).ToString(CultureInfo.InvariantCulture))),
    };

    internal static JsonObject Parsed(string id, string name, JsonObject instance)
    {
        var entity = EntityParser.ParseEntity(new JsonObject { ["id"] = id, ["type"] = "Thing", [name] = instance }, ContextProcessor.Core, ParseMode.Full);
        return entity.Attributes.Values.Single()[0];
    }

    private static Entity Stamped(JsonObject body) =>
        new EntityOperations(Created.AddTicks(4567)).Create(EntityParser.ParseEntity(body, ContextProcessor.Core, ParseMode.Full));

    private static string Render(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            write(writer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private sealed class NoRemoteContexts : IContextDocumentLoader
    {
        public ValueTask<JsonNode?> LoadContextAsync(string url, CancellationToken cancellationToken) => throw new InvalidOperationException(url);
    }
}
