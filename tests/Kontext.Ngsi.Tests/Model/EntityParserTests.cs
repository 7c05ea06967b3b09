using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using static Kontext.Ngsi.Tests.T;

namespace Kontext.Ngsi.Tests.Model;

public class EntityParserTests
{
    private static JsonObject Single(Entity e, string iri)
    {
        e.Attributes.Should().ContainKey(iri);
        e.Attributes[iri].Should().HaveCount(1);
        return e.Attributes[iri][0];
    }

    private static Entity WithAttr(string attrJson, ParseMode mode = ParseMode.Full) =>
        Parse($$"""{ "id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle", {{attrJson}} }""", mode: mode);

    private static void Rejects(string attrJson, ParseMode mode = ParseMode.Full) =>
        ((Action)(() => WithAttr(attrJson, mode))).ShouldBeBadRequestData();

    [Fact]
    public void Id_type_and_attribute_names_are_expanded_with_the_context()
    {
        var e = Parse("""{ "id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle", "speed": { "type": "Property", "value": 80 } }""");
        e.Id.Should().Be("urn:ngsi-ld:Vehicle:1");
        e.Types.Should().Equal(Iri("Vehicle"));
        e.Attributes.Keys.Should().Equal(Iri("speed"));
    }

    [Fact]
    public void An_entity_parsed_from_its_element_is_the_one_parsed_from_a_node_owns_its_values_and_leaves_the_input_as_it_was()
    {
        const string json = """
            { "id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle", "name": "concise", "tags": ["a", {"b": 1}],
              "speed": { "type": "Property", "value": 80, "unitCode": "KMH", "observedAt": "2025-01-01T00:00:00Z",
                         "accuracy": { "type": "Property", "value": 0.5 }, "source": "sensor" },
              "location": { "type": "GeoProperty", "value": { "type": "Point", "coordinates": [1, 2] } },
              "seats": [ { "type": "Property", "value": 40 }, { "type": "Property", "value": 12, "datasetId": "urn:ngsi-ld:Dataset:upper" } ],
              "owner": { "type": "Relationship", "object": "urn:ngsi-ld:Person:1", "objectType": "Person" },
              "stops": { "type": "ListRelationship", "objectList": ["urn:ngsi-ld:Stop:1", { "object": "urn:ngsi-ld:Stop:2" }] },
              "category": { "type": "VocabProperty", "vocab": "bus" } }
            """;
        var node = Obj(json);
        var fromNode = EntityParser.ParseEntity(node, User, ParseMode.Full);
        var element = JsonElement.Parse(json);

        var fromElement = EntityParser.ParseEntity(element, User, ParseMode.Full);

        fromElement.Attributes.Keys.Should().Equal(fromNode.Attributes.Keys);
        foreach (var (iri, instances) in fromNode.Attributes)
            JsonNode.DeepEquals(new JsonArray([.. fromElement.Attributes[iri].Select(i => i.DeepClone())]), new JsonArray([.. instances.Select(i => i.DeepClone())]))
                .Should().BeTrue($"{iri} is parsed alike");
        // Each instance is built for the entity, so the entity can be kept and edited alone; the input is never changed.
        fromElement.Attributes[Iri("speed")][0].Parent.Should().BeNull();
        fromElement.Attributes[Iri("speed")][0]["value"]!.Parent.Should().BeSameAs(fromElement.Attributes[Iri("speed")][0]);
        fromElement.Attributes[Iri("speed")][0]["value"] = 81;
        JsonNode.DeepEquals(node, Obj(json)).Should().BeTrue();
        element.GetRawText().Should().Be(json);
        EntityParser.ParseEntity(element, User, ParseMode.Full).Attributes[Iri("speed")][0]["value"]!.GetValue<int>().Should().Be(80);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_sub_attribute_given_twice_under_two_names_of_one_iri_is_rejected(bool asElement)
    {
        const string json = """
            { "id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle",
              "speed": { "type": "Property", "value": 80, "accuracy": 0.5, "https://uri.etsi.org/ngsi-ld/default-context/accuracy": 0.7 } }
            """;

        var parse = () => asElement
            ? EntityParser.ParseEntity(JsonElement.Parse(json), ContextProcessor.Core, ParseMode.Full)
            : EntityParser.ParseEntity(Obj(json), ContextProcessor.Core, ParseMode.Full);

        parse.Should().Throw<NgsiException>().Which.Error.Detail.Should().Contain("'accuracy' of 'speed' is given twice");
    }

    [Fact]
    public void At_id_and_at_type_are_accepted_and_type_arrays_deduplicate_by_iri()
    {
        var e = Parse("""{ "@id": "urn:ngsi-ld:Vehicle:1", "@type": ["Vehicle", "ex:Vehicle", "Truck"] }""");
        e.Id.Should().Be("urn:ngsi-ld:Vehicle:1");
        e.Types.Should().Equal(Iri("Vehicle"), Iri("Truck"));
    }

    // One type as a string and types in an array go through the same checks (the single string has its own short path).
    [Theory]
    [InlineData("\"type\"")]
    [InlineData("[\"Vehicle\", \"type\"]")]
    [InlineData("\"bad name\"")]
    [InlineData("[\"Vehicle\", \"bad name\"]")]
    [InlineData("[]")]
    [InlineData("[\"Vehicle\", 1]")]
    [InlineData("1")]
    public void A_type_that_is_a_json_ld_keyword_or_no_valid_name_is_rejected_alone_or_in_an_array(string types) =>
        ((Action)(() => Parse($$"""{ "id": "urn:ngsi-ld:Vehicle:1", "type": {{types}} }"""))).ShouldBeBadRequestData();

    [Fact]
    public void Normalized_property_keeps_value_and_metadata()
    {
        var a = Single(WithAttr("""
            "speed": { "type": "Property", "value": 80, "unitCode": "KMH", "observedAt": "2024-05-01T12:00:00Z", "datasetId": "urn:ngsi-ld:Dataset:gps" }
            """), Iri("speed"));
        a["type"]!.GetValue<string>().Should().Be("Property");
        a["value"]!.GetValue<int>().Should().Be(80);
        a["unitCode"]!.GetValue<string>().Should().Be("KMH");
        a["observedAt"]!.GetValue<string>().Should().Be("2024-05-01T12:00:00Z");
        Attr.DatasetId(a).Should().Be("urn:ngsi-ld:Dataset:gps");
    }

    [Theory]
    [InlineData("80", "80")]
    [InlineData("\"fast\"", "\"fast\"")]
    [InlineData("[1, 2, 3]", "[1,2,3]")]
    [InlineData("{ \"a\": 1 }", "{\"a\":1}")]
    [InlineData("{ \"value\": 80 }", "80")]
    public void Concise_property_is_a_property_with_that_value(string concise, string expectedValue)
    {
        var a = Single(WithAttr($$"""  "speed": {{concise}}  """), Iri("speed"));
        a["type"]!.GetValue<string>().Should().Be("Property");
        JsonNode.DeepEquals(a["value"], JsonNode.Parse(expectedValue)).Should().BeTrue(a.ToJsonString());
    }

    [Fact]
    public void System_members_sent_by_the_client_are_ignored()
    {
        var a = Single(WithAttr("""  "speed": { "type": "Property", "value": 1, "createdAt": "2000-01-01T00:00:00Z", "modifiedAt": "2000-01-01T00:00:00Z" }  """), Iri("speed"));
        a.ContainsKey("createdAt").Should().BeFalse();
        a.ContainsKey("modifiedAt").Should().BeFalse();
    }

    [Theory]
    [InlineData("""{ "type": "Relationship", "object": "urn:ngsi-ld:Person:1" }""")]
    [InlineData("""{ "object": "urn:ngsi-ld:Person:1" }""")]
    public void Relationship_normalized_and_concise(string json)
    {
        var a = Single(WithAttr($$"""  "owner": {{json}}  """), Iri("owner"));
        a["type"]!.GetValue<string>().Should().Be("Relationship");
        a["object"]!.GetValue<string>().Should().Be("urn:ngsi-ld:Person:1");
    }

    [Fact]
    public void Relationship_object_may_be_an_array_of_uris()
    {
        var a = Single(WithAttr("""  "owner": { "type": "Relationship", "object": ["urn:ngsi-ld:Person:1", "urn:ngsi-ld:Person:2"] }  """), Iri("owner"));
        a["object"]!.AsArray().Should().HaveCount(2);
    }

    [Theory]
    [InlineData("""{ "type": "Relationship", "object": "not a uri" }""")]
    [InlineData("""{ "type": "Relationship", "object": 42 }""")]
    [InlineData("""{ "type": "Relationship", "object": [] }""")]
    [InlineData("""{ "type": "Relationship" }""")]
    [InlineData("""{ "type": "Relationship", "value": "urn:ngsi-ld:Person:1" }""")]
    public void Invalid_relationships_are_rejected(string json) => Rejects($$"""  "owner": {{json}}  """);

    [Theory]
    [InlineData("""{ "type": "GeoProperty", "value": { "type": "Point", "coordinates": [4.35, 50.85] } }""")]
    [InlineData("""{ "value": { "type": "Point", "coordinates": [4.35, 50.85] } }""")]
    [InlineData("""{ "type": "Point", "coordinates": [4.35, 50.85] }""")]
    public void GeoProperty_normalized_and_concise_including_bare_geojson_for_location(string json)
    {
        var a = Single(WithAttr($$"""  "location": {{json}}  """), NgsiNs + "location");
        a["type"]!.GetValue<string>().Should().Be("GeoProperty");
        JsonNode.DeepEquals(a["value"], JsonNode.Parse("""{ "type": "Point", "coordinates": [4.35, 50.85] }""")).Should().BeTrue();
    }

    [Fact]
    public void A_bare_geometry_makes_a_geoproperty_for_any_attribute()
    {
        var a = Single(WithAttr("""  "area": { "type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,0]]] }  """), Iri("area"));
        a["type"]!.GetValue<string>().Should().Be("GeoProperty");
    }

    [Theory]
    [InlineData("""{ "type": "Property", "value": { "type": "Point", "coordinates": [4.35, 50.85] } }""")]
    [InlineData("""{ "type": "Relationship", "object": "urn:ngsi-ld:Place:1" }""")]
    [InlineData("\"Brussels\"")]
    public void Location_given_as_anything_but_a_geoproperty_is_rejected(string json) => Rejects($$"""  "location": {{json}}  """);

    [Theory]
    [InlineData("""{ "type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,1]]] }""")] // ring not closed
    [InlineData("""{ "type": "Polygon", "coordinates": [[[0,0],[1,0],[0,0]]] }""")] // ring too short
    [InlineData("""{ "type": "Point", "coordinates": [4.35, 91] }""")] // latitude 91
    [InlineData("""{ "type": "Point", "coordinates": [181, 50] }""")] // longitude 181
    [InlineData("""{ "type": "Point", "coordinates": [[4.35, 50.85]] }""")] // nesting one level too deep
    [InlineData("""{ "type": "Polygon", "coordinates": [[0,0],[1,0],[1,1],[0,0]] }""")] // nesting one level too shallow
    [InlineData("""{ "type": "LineString", "coordinates": [[0,0]] }""")]
    [InlineData("""{ "type": "Point", "coordinates": [1, "2"] }""")]
    [InlineData("""{ "type": "Point" }""")]
    [InlineData("""{ "type": "Circle", "coordinates": [1, 2] }""")]
    [InlineData("""{ "type": "GeometryCollection", "geometries": [ { "type": "GeometryCollection", "geometries": [] } ] }""")]
    public void Invalid_geojson_is_rejected(string geometry) =>
        Rejects($$"""  "location": { "type": "GeoProperty", "value": {{geometry}} }  """);

    [Fact]
    public void LanguageProperty_normalized_and_concise()
    {
        foreach (var json in new[]
        {
            """{ "type": "LanguageProperty", "languageMap": { "en": "Car", "nl": "Auto" } }""",
            """{ "languageMap": { "en": "Car", "nl": "Auto" } }""",
        })
        {
            var a = Single(WithAttr($$"""  "name": {{json}}  """), Iri("name"));
            a["type"]!.GetValue<string>().Should().Be("LanguageProperty");
            a["languageMap"]!["nl"]!.GetValue<string>().Should().Be("Auto");
        }
    }

    [Theory]
    [InlineData("""{ "type": "LanguageProperty", "languageMap": {} }""")]
    [InlineData("""{ "type": "LanguageProperty", "languageMap": { "en": 3 } }""")]
    [InlineData("""{ "type": "LanguageProperty", "languageMap": "Car" }""")]
    public void Invalid_language_maps_are_rejected(string json) => Rejects($$"""  "name": {{json}}  """);

    [Fact]
    public void VocabProperty_normalized_and_concise()
    {
        foreach (var json in new[] { """{ "type": "VocabProperty", "vocab": "Sedan" }""", """{ "vocab": "Sedan" }""" })
        {
            var a = Single(WithAttr($$"""  "category": {{json}}  """), Iri("category"));
            a["type"]!.GetValue<string>().Should().Be("VocabProperty");
            a["vocab"]!.GetValue<string>().Should().Be(Iri("Sedan"));
        }
    }

    [Fact]
    public void JsonProperty_normalized_and_concise_keep_the_json_verbatim()
    {
        foreach (var json in new[]
        {
            """{ "type": "JsonProperty", "json": { "type": "Property", "value": 1, "speed": 3 } }""",
            """{ "json": { "type": "Property", "value": 1, "speed": 3 } }""",
        })
        {
            var a = Single(WithAttr($$"""  "config": {{json}}  """), Iri("config"));
            a["type"]!.GetValue<string>().Should().Be("JsonProperty");
            JsonNode.DeepEquals(a["json"], JsonNode.Parse("""{ "type": "Property", "value": 1, "speed": 3 }""")).Should().BeTrue();
        }
    }

    [Theory]
    [InlineData("""{ "type": "JsonProperty", "json": 3 }""")]
    [InlineData("""{ "type": "JsonProperty", "json": "text" }""")]
    public void JsonProperty_needs_an_object_or_array(string json) => Rejects($$"""  "config": {{json}}  """);

    [Fact]
    public void ListProperty_normalized_and_concise()
    {
        foreach (var json in new[] { """{ "type": "ListProperty", "valueList": [3, 1, 2] }""", """{ "valueList": [3, 1, 2] }""" })
        {
            var a = Single(WithAttr($$"""  "readings": {{json}}  """), Iri("readings"));
            a["type"]!.GetValue<string>().Should().Be("ListProperty");
            JsonNode.DeepEquals(a["valueList"], JsonNode.Parse("[3, 1, 2]")).Should().BeTrue();
        }
        Rejects("""  "readings": { "type": "ListProperty", "valueList": 3 }  """);
    }

    [Fact]
    public void ListRelationship_normalized_and_concise()
    {
        foreach (var json in new[]
        {
            """{ "type": "ListRelationship", "objectList": ["urn:ngsi-ld:Vehicle:2", { "object": "urn:ngsi-ld:Vehicle:3" }] }""",
            """{ "objectList": ["urn:ngsi-ld:Vehicle:2", { "object": "urn:ngsi-ld:Vehicle:3" }] }""",
        })
        {
            var a = Single(WithAttr($$"""  "fleet": {{json}}  """), Iri("fleet"));
            a["type"]!.GetValue<string>().Should().Be("ListRelationship");
            a["objectList"]!.AsArray().Should().HaveCount(2);
        }
        Rejects("""  "fleet": { "type": "ListRelationship", "objectList": ["not a uri"] }  """);
        Rejects("""  "fleet": { "type": "ListRelationship", "objectList": "urn:ngsi-ld:Vehicle:2" }  """);
    }

    [Fact]
    public void Multi_attribute_instances_are_kept_apart_by_dataset_id()
    {
        var e = WithAttr("""
            "speed": [
              { "type": "Property", "value": 80 },
              { "type": "Property", "value": 81, "datasetId": "urn:ngsi-ld:Dataset:gps" },
              { "value": 82, "datasetId": "urn:ngsi-ld:Dataset:radar" }
            ]
            """);
        e.Attributes[Iri("speed")].Select(Attr.DatasetId).Should().Equal(null, "urn:ngsi-ld:Dataset:gps", "urn:ngsi-ld:Dataset:radar");
        e.FindInstance(Iri("speed"), "urn:ngsi-ld:Dataset:radar")!["value"]!.GetValue<int>().Should().Be(82);
    }

    [Theory]
    [InlineData("""[ { "type": "Property", "value": 1, "datasetId": "urn:ds:1" }, { "type": "Property", "value": 2, "datasetId": "urn:ds:1" } ]""")]
    [InlineData("""[ { "type": "Property", "value": 1 }, { "value": 2 } ]""")]
    public void Two_instances_with_the_same_dataset_id_are_rejected(string json) => Rejects($$"""  "speed": {{json}}  """);

    [Fact]
    public void Two_names_that_expand_to_the_same_iri_are_rejected() =>
        Rejects("""  "speed": 1, "ex:speed": 2  """);

    [Fact]
    public void Sub_attributes_are_parsed_recursively_with_expanded_names()
    {
        var a = Single(WithAttr("""
            "speed": { "type": "Property", "value": 80,
                       "accuracy": { "type": "Property", "value": 0.5, "unitCode": "KMH" },
                       "owner": { "object": "urn:ngsi-ld:Person:1" },
                       "temperature": 21 }
            """), Iri("speed"));
        a[Iri("accuracy")]!["value"]!.GetValue<double>().Should().Be(0.5);
        a[Iri("accuracy")]!["unitCode"]!.GetValue<string>().Should().Be("KMH");
        a[Iri("owner")]!["type"]!.GetValue<string>().Should().Be("Relationship");
        a[Iri("temperature")]!["type"]!.GetValue<string>().Should().Be("Property");
        a.ContainsKey("accuracy").Should().BeFalse();
    }

    [Fact]
    public void A_sub_attribute_cannot_have_several_instances() =>
        Rejects("""  "speed": { "value": 80, "accuracy": [ { "value": 1, "datasetId": "urn:ds:1" }, { "value": 2 } ] }  """);

    [Theory]
    [InlineData("\"2024-05-01\"")]
    [InlineData("\"yesterday\"")]
    [InlineData("12345")]
    public void ObservedAt_must_be_a_date_time(string observedAt) =>
        Rejects($$"""  "speed": { "type": "Property", "value": 1, "observedAt": {{observedAt}} }  """);

    [Fact]
    public void ObservedAt_of_a_sub_attribute_is_validated_too() =>
        Rejects("""  "speed": { "value": 1, "accuracy": { "value": 1, "observedAt": "soon" } }  """);

    [Theory]
    [InlineData("\"not a uri\"")]
    [InlineData("42")]
    public void DatasetId_must_be_a_uri(string datasetId) =>
        Rejects($$"""  "speed": { "type": "Property", "value": 1, "datasetId": {{datasetId}} }  """);

    [Theory]
    [InlineData("42")]
    [InlineData("[\"KMH\"]")]
    public void UnitCode_must_be_a_string(string unitCode) =>
        Rejects($$"""  "speed": { "type": "Property", "value": 1, "unitCode": {{unitCode}} }  """);

    [Theory]
    [InlineData("sp<eed")]
    [InlineData("sp>eed")]
    [InlineData("sp\\\"eed")]
    [InlineData("sp'eed")]
    [InlineData("sp=eed")]
    [InlineData("sp;eed")]
    [InlineData("sp(eed")]
    [InlineData("sp)eed")]
    [InlineData("sp eed")]
    [InlineData("sp\\teed")]
    public void Forbidden_characters_in_attribute_names_are_rejected(string name) =>
        Rejects($$"""  "{{name}}": 1  """);

    [Theory]
    [InlineData("Veh<icle")]
    [InlineData("Veh icle")]
    [InlineData("Veh(icle)")]
    [InlineData("")]
    public void Forbidden_characters_in_entity_types_are_rejected(string type) =>
        ((Action)(() => Parse($$"""{ "id": "urn:ngsi-ld:Vehicle:1", "type": "{{type}}" }"""))).ShouldBeBadRequestData();

    [Theory]
    [InlineData("\"not a uri\"")]
    [InlineData("\"Vehicle1\"")]
    [InlineData("\"urn:ngsi-ld:Vehicle: 1\"")]
    [InlineData("\"\"")]
    [InlineData("42")]
    public void Invalid_entity_ids_are_rejected(string id) =>
        ((Action)(() => Parse($$"""{ "id": {{id}}, "type": "Vehicle" }"""))).ShouldBeBadRequestData();

    [Fact]
    public void An_entity_needs_an_id_and_in_full_mode_a_type()
    {
        ((Action)(() => Parse("""{ "type": "Vehicle" }"""))).ShouldBeBadRequestData();
        ((Action)(() => Parse("""{ "id": "urn:ngsi-ld:Vehicle:1" }"""))).ShouldBeBadRequestData();
    }

    [Fact]
    public void The_body_id_must_match_the_url_id()
    {
        ((Action)(() => EntityParser.ParseEntity(Obj("""{ "id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle" }"""), User, ParseMode.Full, expectedId: "urn:ngsi-ld:Vehicle:2")))
            .ShouldBeBadRequestData();
        EntityParser.ParseEntity(Obj("""{ "type": "Vehicle" }"""), User, ParseMode.Full, expectedId: "urn:ngsi-ld:Vehicle:2").Id.Should().Be("urn:ngsi-ld:Vehicle:2");
    }

    [Theory]
    [InlineData("""{ "type": "Integer", "value": 1 }""")]
    [InlineData("""{ "type": "Property", "value": null }""")]
    [InlineData("""{ "type": "Property" }""")]
    [InlineData("""{ "value": 1, "object": "urn:a:b" }""")]
    [InlineData("""{ "type": "Property", "value": 1, "object": "urn:a:b" }""")]
    public void Malformed_attributes_are_rejected(string json) => Rejects($$"""  "speed": {{json}}  """);

    [Theory]
    [InlineData("null")]
    [InlineData("\"urn:ngsi-ld:null\"")]
    public void Ngsi_ld_null_as_an_attribute_is_rejected_outside_merge(string nullValue)
    {
        Rejects($$"""  "speed": {{nullValue}}  """, ParseMode.Full);
        Rejects($$"""  "speed": {{nullValue}}  """, ParseMode.Fragment);
        Rejects($$"""  "speed": { "value": 1, "accuracy": {{nullValue}} }  """, ParseMode.Full);
    }

    [Theory]
    [InlineData("null")]
    [InlineData("\"urn:ngsi-ld:null\"")]
    public void Ngsi_ld_null_is_accepted_in_merge_mode_as_a_deletion_marker(string nullValue)
    {
        var e = EntityParser.ParseFragment(Obj($$"""{ "speed": {{nullValue}}, "name": { "value": 1, "accuracy": {{nullValue}} } }"""), User, ParseMode.Merge, "urn:ngsi-ld:Vehicle:1");
        Attr.IsNullMarker(e.Attributes[Iri("speed")][0]["value"]).Should().BeTrue();
        e.Attributes[Iri("speed")][0]["value"]!.GetValue<string>().Should().Be(Attr.NullMarker);
        e.Attributes[Iri("name")][0][Iri("accuracy")]!["value"]!.GetValue<string>().Should().Be(Attr.NullMarker);
    }

    [Fact]
    public void Ngsi_ld_null_as_a_normalized_value_is_rejected_outside_merge()
    {
        Rejects("""  "speed": { "type": "Property", "value": "urn:ngsi-ld:null" }  """, ParseMode.Full);
        Rejects("""  "speed": { "value": "urn:ngsi-ld:null" }  """, ParseMode.Full);
        Rejects("""  "owner": { "type": "Relationship", "object": "urn:ngsi-ld:null" }  """, ParseMode.Full);
    }

    [Fact]
    public void Fragment_mode_accepts_an_attribute_without_payload_but_full_mode_does_not()
    {
        Rejects("""  "speed": { "type": "Property", "unitCode": "KMH" }  """, ParseMode.Full);
        var e = EntityParser.ParseFragment(Obj("""{ "speed": { "type": "Property", "unitCode": "KMH" } }"""), User, ParseMode.Fragment, "urn:ngsi-ld:Vehicle:1");
        e.Attributes[Iri("speed")][0].ContainsKey("value").Should().BeFalse();
    }

    /// <summary>Session 15: the parser skips a body's id or @context where told to, in place of a copy of the body without it.</summary>
    [Fact]
    public void An_update_body_s_id_is_left_unread_only_where_told_and_an_attribute_body_s_context_skipped_only_where_told()
    {
        var fragment = JsonElement.Parse("""{ "id": 5, "@id": "urn:ngsi-ld:Vehicle:2", "speed": 1 }""");
        ((Action)(() => EntityParser.ParseFragment(fragment, User, ParseMode.Update, "urn:ngsi-ld:Vehicle:1"))).ShouldBeBadRequestData();
        var e = EntityParser.ParseFragment(fragment, User, ParseMode.Update, "urn:ngsi-ld:Vehicle:1", readsId: false);
        e.Id.Should().Be("urn:ngsi-ld:Vehicle:1");
        e.Attributes.Keys.Should().Equal(Iri("speed"));

        var body = JsonElement.Parse("""{ "value": 1, "@context": {"x": "https://example.org/x"}, "accuracy": { "value": 2 } }""");
        ((Action)(() => EntityParser.ParseAttributeBody("speed", Iri("speed"), body, User, ParseMode.Fragment))).ShouldBeBadRequestData();
        var skipped = EntityParser.ParseAttributeBody("speed", Iri("speed"), body, User, ParseMode.Fragment, skipsContext: true);
        var without = EntityParser.ParseAttributeBody("speed", Iri("speed"), JsonElement.Parse("""{ "value": 1, "accuracy": { "value": 2 } }"""), User, ParseMode.Fragment);
        skipped.ToJsonString().Should().Be(without.ToJsonString());
        var nested = JsonElement.Parse("""{ "value": 1, "accuracy": { "value": 2, "@context": {} } }""");
        ((Action)(() => EntityParser.ParseAttributeBody("speed", Iri("speed"), nested, User, ParseMode.Fragment, skipsContext: true)))
            .ShouldBeBadRequestData(); // only the body's own @context is the request's
    }

    [Fact]
    public void Scopes_are_validated_and_deduplicated()
    {
        Parse("""{ "id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle", "scope": ["/Madrid/Gardens", "/Madrid/Gardens", "/Spain"] }""")
            .Scopes.Should().Equal("/Madrid/Gardens", "/Spain");
        ((Action)(() => Parse("""{ "id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle", "scope": "Madrid" }"""))).ShouldBeBadRequestData();
    }

    [Fact]
    public void The_type_of_an_instance_still_over_the_request_is_read_as_the_same_name_as_a_written_one()
    {
        var parsed = EntityParser.ParseAttribute("p", Iri("p"), JsonElement.Parse("""{ "type": "Relationship", "object": "urn:x:1" }"""), User, ParseMode.Full).Single();
        var written = new JsonObject { ["type"] = "Relationship", ["object"] = "urn:x:1" };

        Attr.Type(parsed).Should().BeSameAs(Attr.Relationship, "a known type is the broker's own constant, not a copy of the request's text");
        Attr.Type(written).Should().Be(Attr.Relationship);
        Attr.Type(new JsonObject { ["value"] = 1 }).Should().Be(Attr.Property);
        Attr.Payload(parsed)!.GetValue<string>().Should().Be("urn:x:1");
    }
}
