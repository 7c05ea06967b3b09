using System.Text.Json.Nodes;
using Kontext.Ngsi.Formats;
using Kontext.Ngsi.Model;
using static Kontext.Ngsi.Tests.T;

namespace Kontext.Ngsi.Tests.Model;

public class EntityRendererTests
{
    private static readonly DateTimeOffset T0 = new(2024, 5, 1, 12, 0, 0, TimeSpan.Zero);

    private const string Representative = """
        {
          "id": "urn:ngsi-ld:Vehicle:1",
          "type": "Vehicle",
          "speed": { "type": "Property", "value": 80, "unitCode": "KMH", "accuracy": { "type": "Property", "value": 0.5 } },
          "owner": { "type": "Relationship", "object": "urn:ngsi-ld:Person:1" },
          "location": { "type": "GeoProperty", "value": { "type": "Point", "coordinates": [4.35, 50.85] } },
          "name": { "type": "LanguageProperty", "languageMap": { "en": "Car", "nl-BE": "Auto", "@none": "Wagen" } }
        }
        """;

    private static Entity Stored(string json = Representative) => new EntityOperations(T0).Create(Parse(json));

    private static JsonObject Render(Entity e, RenderOptions options) => T.Render(e, User, options);

    private static void ShouldEqualJson(JsonNode? actual, string expected) =>
        JsonNode.DeepEquals(actual, JsonNode.Parse(expected)).Should().BeTrue($"{actual?.ToJsonString()} should equal {expected}");

    [Fact]
    public void Normalized_output_compacts_names_and_carries_every_type()
    {
        ShouldEqualJson(Render(Stored(), new RenderOptions()), """
            {
              "id": "urn:ngsi-ld:Vehicle:1",
              "type": "Vehicle",
              "speed": { "type": "Property", "value": 80, "unitCode": "KMH", "accuracy": { "type": "Property", "value": 0.5 } },
              "owner": { "type": "Relationship", "object": "urn:ngsi-ld:Person:1" },
              "location": { "type": "GeoProperty", "value": { "type": "Point", "coordinates": [4.35, 50.85] } },
              "name": { "type": "LanguageProperty", "languageMap": { "en": "Car", "nl-BE": "Auto", "@none": "Wagen" } }
            }
            """);
    }

    [Fact]
    public void Normalized_output_writes_type_first_in_every_attribute()
    {
        var rendered = Render(Stored(), new RenderOptions());
        rendered.Select(p => p.Key).Should().Equal("id", "type", "speed", "owner", "location", "name");
        rendered["speed"]!.AsObject().First().Key.Should().Be("type");
    }

    [Fact]
    public void Concise_output_drops_types_and_simplifies_plain_values()
    {
        ShouldEqualJson(Render(Stored(), new RenderOptions(RenderFormat.Concise)), """
            {
              "id": "urn:ngsi-ld:Vehicle:1",
              "type": "Vehicle",
              "speed": { "value": 80, "unitCode": "KMH", "accuracy": 0.5 },
              "owner": { "object": "urn:ngsi-ld:Person:1" },
              "location": { "type": "Point", "coordinates": [4.35, 50.85] },
              "name": { "languageMap": { "en": "Car", "nl-BE": "Auto", "@none": "Wagen" } }
            }
            """);
    }

    [Fact]
    public void KeyValues_output_gives_just_the_values()
    {
        var rendered = Render(Stored(), new RenderOptions(RenderFormat.KeyValues, SysAttrs: true));
        rendered["id"]!.GetValue<string>().Should().Be("urn:ngsi-ld:Vehicle:1");
        rendered["type"]!.GetValue<string>().Should().Be("Vehicle");
        rendered["speed"]!.GetValue<int>().Should().Be(80);
        rendered["owner"]!.GetValue<string>().Should().Be("urn:ngsi-ld:Person:1");
        ShouldEqualJson(rendered["location"], """{ "type": "Point", "coordinates": [4.35, 50.85] }""");
        rendered.ContainsKey("createdAt").Should().BeTrue("sysAttrs adds the entity's system times to keyValues as well (clause 4.5.4 with 6.3.11)");
        Render(Stored(), new RenderOptions(RenderFormat.KeyValues)).ContainsKey("createdAt").Should().BeFalse("without sysAttrs keyValues carries no system attributes");
    }

    [Fact]
    public void SysAttrs_adds_created_and_modified_at_to_the_entity_attributes_and_sub_attributes()
    {
        var e = Stored();
        var on = Render(e, new RenderOptions(SysAttrs: true));
        on["createdAt"]!.GetValue<string>().Should().Be("2024-05-01T12:00:00.000Z");
        on["modifiedAt"]!.GetValue<string>().Should().Be("2024-05-01T12:00:00.000Z");
        on["speed"]!["createdAt"]!.GetValue<string>().Should().Be("2024-05-01T12:00:00.000Z");
        on["speed"]!["accuracy"]!["modifiedAt"]!.GetValue<string>().Should().Be("2024-05-01T12:00:00.000Z");

        var off = Render(e, new RenderOptions());
        off.ContainsKey("createdAt").Should().BeFalse();
        off.ToJsonString().Should().NotContain("createdAt").And.NotContain("modifiedAt");

        var concise = Render(e, new RenderOptions(RenderFormat.Concise));
        concise["owner"]!.AsObject().Select(p => p.Key).Should().Equal("object");
        Render(e, new RenderOptions(RenderFormat.Concise, SysAttrs: true))["owner"]!["createdAt"].Should().NotBeNull();
    }

    [Fact]
    public void Lang_turns_a_language_property_into_a_property_in_the_chosen_language()
    {
        var rendered = Render(Stored(), new RenderOptions(Lang: LanguageSelector.Parse("en")));
        ShouldEqualJson(rendered["name"], """{ "type": "Property", "value": "Car", "lang": "en" }""");
    }

    [Fact]
    public void Lang_matches_a_more_specific_tag_by_prefix()
    {
        ShouldEqualJson(Render(Stored(), new RenderOptions(Lang: LanguageSelector.Parse("nl")))["name"],
            """{ "type": "Property", "value": "Auto", "lang": "nl-BE" }""");
    }

    [Fact]
    public void Lang_honours_q_values()
    {
        ShouldEqualJson(Render(Stored(), new RenderOptions(Lang: LanguageSelector.Parse("fr, nl;q=0.5, en;q=0.8")))["name"],
            """{ "type": "Property", "value": "Car", "lang": "en" }""");
    }

    [Fact]
    public void Lang_falls_back_to_none_without_a_lang_member()
    {
        ShouldEqualJson(Render(Stored(), new RenderOptions(Lang: LanguageSelector.Parse("de")))["name"],
            """{ "type": "Property", "value": "Wagen" }""");
    }

    [Fact]
    public void Lang_star_picks_some_language_and_says_which()
    {
        var e = Stored("""{ "id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle", "name": { "languageMap": { "en": "Car", "nl": "Auto" } } }""");
        var name = Render(e, new RenderOptions(Lang: LanguageSelector.Parse("*")))["name"]!;
        name["type"]!.GetValue<string>().Should().Be("Property");
        var lang = name["lang"]!.GetValue<string>();
        lang.Should().BeOneOf("en", "nl");
        name["value"]!.GetValue<string>().Should().Be(lang == "en" ? "Car" : "Auto");
    }

    [Fact]
    public void Lang_applies_to_concise_and_key_values()
    {
        var e = Stored();
        var lang = LanguageSelector.Parse("nl");
        ShouldEqualJson(Render(e, new RenderOptions(RenderFormat.Concise, Lang: lang))["name"], """{ "value": "Auto", "lang": "nl-BE" }""");
        Render(e, new RenderOptions(RenderFormat.KeyValues, Lang: lang))["name"]!.GetValue<string>().Should().Be("Auto");
    }

    [Fact]
    public void Projection_can_pick_the_id_only()
    {
        var rendered = Render(Stored(), new RenderOptions(Projection: new Projection(Type: false, Scope: false, Only: new HashSet<string>())));
        ShouldEqualJson(rendered, """{ "id": "urn:ngsi-ld:Vehicle:1" }""");
    }

    [Fact]
    public void Projection_can_omit_the_type_and_select_attributes_by_expanded_name()
    {
        var rendered = Render(Stored(), new RenderOptions(RenderFormat.KeyValues,
            Projection: new Projection(Type: false, Only: new HashSet<string> { Iri("speed"), Iri("owner") }, Omitted: new HashSet<string> { Iri("owner") })));
        ShouldEqualJson(rendered, """{ "id": "urn:ngsi-ld:Vehicle:1", "speed": 80 }""");
    }

    [Fact]
    public void A_multi_instance_attribute_is_rendered_as_an_array()
    {
        var e = Stored("""
            { "id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle",
              "speed": [ { "type": "Property", "value": 80 }, { "type": "Property", "value": 81, "datasetId": "urn:ngsi-ld:Dataset:gps" } ] }
            """);
        ShouldEqualJson(Render(e, new RenderOptions())["speed"], """
            [ { "type": "Property", "value": 80 }, { "type": "Property", "value": 81, "datasetId": "urn:ngsi-ld:Dataset:gps" } ]
            """);
    }

    [Fact]
    public void Scope_and_multiple_types_are_rendered()
    {
        var e = Stored("""{ "id": "urn:ngsi-ld:Vehicle:1", "type": ["Vehicle", "Truck"], "scope": ["/a", "/b/c"] }""");
        ShouldEqualJson(Render(e, new RenderOptions()), """{ "id": "urn:ngsi-ld:Vehicle:1", "type": ["Vehicle", "Truck"], "scope": ["/a", "/b/c"] }""");
        ShouldEqualJson(Render(Stored("""{ "id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle", "scope": "/a" }"""), new RenderOptions())["scope"], "\"/a\"");
    }

    [Fact]
    public void The_body_context_is_written_last_when_given()
    {
        using var stream = new MemoryStream();
        using (var writer = new System.Text.Json.Utf8JsonWriter(stream))
            new EntityRenderer(User, new RenderOptions()).WriteEntity(writer, Stored(), JsonValue.Create("http://ctx.example.org/a.jsonld"));
        var rendered = JsonNode.Parse(stream.ToArray())!.AsObject();
        rendered.Last().Key.Should().Be("@context");
        rendered["@context"]!.GetValue<string>().Should().Be("http://ctx.example.org/a.jsonld");
    }

    public static TheoryData<string> RoundTripEntities => new()
    {
        Representative,
        """
        { "id": "urn:ngsi-ld:Vehicle:2", "type": ["Vehicle", "Truck"], "scope": "/fleet/north",
          "category": { "type": "VocabProperty", "vocab": ["Sedan", "somethingElse"] },
          "config": { "type": "JsonProperty", "json": { "type": "Property", "value": [1, { "value": 2 }] } },
          "readings": { "type": "ListProperty", "valueList": [1, "two", { "three": 3 }] },
          "fleet": { "type": "ListRelationship", "objectList": [ { "object": "urn:ngsi-ld:Vehicle:3" } ] },
          "owner": { "type": "Relationship", "object": "urn:ngsi-ld:Person:1", "objectType": "Person", "observedAt": "2024-05-01T10:00:00Z" },
          "ex:free": { "type": "Property", "value": { "nested": { "deep": [true, null] } } } }
        """,
        """
        { "id": "urn:ngsi-ld:Vehicle:3", "type": "Vehicle",
          "speed": { "type": "Property", "value": 10, "datasetId": "urn:ngsi-ld:Dataset:gps",
                     "owner": { "type": "Relationship", "object": "urn:ngsi-ld:Person:1" },
                     "accuracy": { "type": "Property", "value": 1, "temperature": { "type": "Property", "value": 3 } } },
          "area": { "type": "GeoProperty", "value": { "type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,0]]] }, "observedAt": "2024-05-01T10:00:00Z" },
          "almostFull": { "type": "Property", "value": false } }
        """,
    };

    [Theory]
    [MemberData(nameof(RoundTripEntities))]
    public void Concise_render_then_parse_gives_back_the_same_normalized_entity(string json)
    {
        var original = Parse(json);
        var normalized = Render(original, new RenderOptions());
        var concise = Render(original, new RenderOptions(RenderFormat.Concise));

        var reparsed = EntityParser.ParseEntity(concise, User, ParseMode.Full);

        ShouldEqualJson(Render(reparsed, new RenderOptions()), normalized.ToJsonString());
    }

    [Fact]
    public void Concise_round_trip_keeps_a_multi_attribute()
    {
        Concise_render_then_parse_gives_back_the_same_normalized_entity("""
            { "id": "urn:ngsi-ld:Vehicle:4", "type": "Vehicle",
              "speed": [ { "type": "Property", "value": 80 }, { "type": "Property", "value": 81, "datasetId": "urn:ngsi-ld:Dataset:gps" } ] }
            """);
    }

    [Fact]
    public void Concise_round_trip_keeps_a_property_whose_value_looks_like_a_geometry_or_an_attribute()
    {
        Concise_render_then_parse_gives_back_the_same_normalized_entity("""
            { "id": "urn:ngsi-ld:Vehicle:5", "type": "Vehicle",
              "speed": { "type": "Property", "value": { "type": "Point", "coordinates": [1, 2] } },
              "name": { "type": "Property", "value": { "value": 3, "unit": "x" } } }
            """);
    }
}
