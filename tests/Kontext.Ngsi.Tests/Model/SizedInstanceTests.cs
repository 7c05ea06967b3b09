using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Model;
using static Kontext.Ngsi.Tests.T;

namespace Kontext.Ngsi.Tests.Model;

/// <summary>
/// The parser makes each instance at the size it reaches once stamped (<see cref="SizedJsonObject"/>); these pin that the
/// sized instance is, member for member and in order, the one built the old way (an empty object grown member by member,
/// then stamped), for the odd cases too.
/// </summary>
public class SizedInstanceTests
{
    private static readonly DateTimeOffset T0 = new(2024, 5, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset T1 = new(2024, 5, 2, 8, 30, 0, 123, TimeSpan.Zero);
    private const string Id = "urn:ngsi-ld:Vehicle:1";

    public static TheoryData<string> Bodies => new()
    {
        // The bench's shape: numbers with unitCode and observedAt, a Point.
        """{ "no2": { "type": "Property", "value": 12.5, "unitCode": "GQ", "observedAt": "2025-01-01T00:00:00Z" }, "location": { "type": "GeoProperty", "value": { "type": "Point", "coordinates": [-3.7, 40.4] } } }""",
        // Its own createdAt and modifiedAt in the body: ignored, the broker's are appended.
        """{ "speed": { "createdAt": "2000-01-01T00:00:00Z", "type": "Property", "value": 80, "modifiedAt": "2000-01-01T00:00:00Z" } }""",
        // datasetId, a multi-attribute, the default instance named @none.
        """{ "speed": [ { "type": "Property", "value": 80, "datasetId": "urn:ds:gps" }, { "type": "Property", "value": 81, "datasetId": "@none" } ] }""",
        // Sub-attributes (one with its own createdAt), nested, and a relationship as one.
        """{ "speed": { "value": 80, "accuracy": { "value": 1, "createdAt": "2000-01-01T00:00:00Z", "precision": { "value": 0.1 } }, "owner": { "object": "urn:ngsi-ld:Person:1" }, "type": "Property" } }""",
        // LanguageProperty, VocabProperty, ListRelationship (rewritten members), JsonProperty, concise values.
        """{ "name": { "type": "LanguageProperty", "languageMap": { "en": "car", "de": "Auto" } }, "category": { "vocab": "Car" }, "fleet": { "type": "ListRelationship", "objectList": ["urn:a:1", { "object": "urn:a:2" }] }, "raw": { "json": { "a": [1, null] } }, "plain": 7, "tags": ["x", "y"], "point": { "type": "Point", "coordinates": [1, 2] } }""",
        // Many members: more than the seven entries a grown dictionary has before its second growth.
        """{ "speed": { "type": "Property", "value": 80, "unitCode": "KMH", "observedAt": "2025-01-01T00:00:00Z", "datasetId": "urn:ds:1", "a": 1, "b": 2, "c": { "value": 3 }, "d": "four" } }""",
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public void A_created_entity_has_the_instances_of_the_old_grown_objects_member_for_member(string attributes)
    {
        var json = $$"""{ "id": "{{Id}}", "type": "Vehicle", {{attributes.Trim()[1..^1]}} }""";
        var sized = new EntityOperations(T0).Create(Parse(json));
        var grown = Parse(json);
        foreach (var (_, instances) in grown.Attributes)
            for (var i = 0; i < instances.Count; i++) instances[i] = Grown(instances[i]);
        grown = new EntityOperations(T0).Create(grown);

        Texts(sized).Should().Equal(Texts(grown));
    }

    [Theory]
    [MemberData(nameof(Bodies))]
    public void An_update_copies_each_instance_of_the_fragment_into_an_object_that_equals_the_old_grown_one(string attributes)
    {
        var existing = new EntityOperations(T0).Create(Parse($$"""{ "id": "{{Id}}", "type": "Vehicle", "speed": { "value": 1, "accuracy": { "value": 1 } } }"""));
        var sized = existing.Clone();
        new EntityOperations(T1).Append(sized, EntityParser.ParseFragment(Obj(attributes), User, ParseMode.Full, Id), noOverwrite: false);
        var grown = existing.Clone();
        var fragment = EntityParser.ParseFragment(Obj(attributes), User, ParseMode.Full, Id);
        foreach (var (_, instances) in fragment.Attributes)
            for (var i = 0; i < instances.Count; i++) instances[i] = Grown(instances[i]);
        new EntityOperations(T1).Append(grown, fragment, noOverwrite: false);

        Texts(sized).Should().Equal(Texts(grown));
    }

    [Fact]
    public void A_created_instance_holds_its_members_in_the_order_sent_then_its_type_then_the_brokers_times()
    {
        var entity = new EntityOperations(T0).Create(Parse($$"""
            { "id": "{{Id}}", "type": "Vehicle",
              "speed": { "createdAt": "2000-01-01T00:00:00Z", "value": 80, "datasetId": "urn:ds:gps", "accuracy": { "value": 1 }, "type": "Property" },
              "name": { "type": "LanguageProperty", "languageMap": { "en": "car" } } }
            """));

        entity.Attributes[Iri("speed")].Single().ToJsonString().Should().Be(
            $$"""{"value":80,"datasetId":"urn:ds:gps","{{Iri("accuracy")}}":{"value":1,"type":"Property","createdAt":"2024-05-01T12:00:00.000Z","modifiedAt":"2024-05-01T12:00:00.000Z"},"type":"Property","createdAt":"2024-05-01T12:00:00.000Z","modifiedAt":"2024-05-01T12:00:00.000Z"}""");
        entity.Attributes[Iri("name")].Single().ToJsonString().Should().Be(
            """{"languageMap":{"en":"car"},"type":"LanguageProperty","createdAt":"2024-05-01T12:00:00.000Z","modifiedAt":"2024-05-01T12:00:00.000Z"}""");
    }

    [Fact]
    public void A_deletion_in_an_update_is_parsed_and_applied_as_before()
    {
        var entity = new EntityOperations(T0).Create(Parse($$"""{ "id": "{{Id}}", "type": "Vehicle", "speed": 1, "name": "x" }"""));
        var fragment = EntityParser.ParseFragment(Obj("""{ "speed": "urn:ngsi-ld:null", "name": { "type": "Property", "value": "y" } }"""), User, ParseMode.Update, Id);
        fragment.Attributes[Iri("speed")].Single().ToJsonString().Should().Be("""{"value":"urn:ngsi-ld:null"}""");

        new EntityOperations(T1).Update(entity, fragment);

        entity.Attributes.Keys.Should().Equal(Iri("name"));
        entity.Attributes[Iri("name")].Single().ToJsonString().Should().Be(
            """{"value":"y","type":"Property","createdAt":"2024-05-01T12:00:00.000Z","modifiedAt":"2024-05-02T08:30:00.123Z"}""");
    }

    [Fact]
    public void This_runtime_lets_instances_be_sized_and_a_sized_object_behaves_as_a_grown_one()
    {
        SizedJsonObject.Sizable.Should().BeTrue("the tests above compare the sized form only where it is made");
        var sized = SizedJsonObject.Create(2);
        var grown = new JsonObject();
        foreach (var o in new[] { sized, grown })
        {
            o.Add("b", 1);
            o.Add("a", 2);
            o["c"] = 3; // past the room it was given
            o["b"] = 4; // set in place
            o.Remove("a");
            o.Add("a", 5);
        }
        sized.ToJsonString().Should().Be(grown.ToJsonString()).And.Be("""{"b":4,"c":3,"a":5}""");
        sized.ContainsKey("B").Should().BeFalse("names compare ordinally, as in an object System.Text.Json makes");
    }

    public static TheoryData<string> Payloads => new()
    {
        "1", "\"urn:ngsi-ld:null\"", "[\"urn:ngsi-ld:null\"]", """{ "a": "urn:ngsi-ld:null" }""", """{ "a": { "b": [1, { "c": "urn:ngsi-ld:null" }] } }""",
        """{ "a": "urn:ngsi-ld:nul\u006c" }""", """[[{ "a": "urn:ngsi-ld:null" }]]""", """{ "a": ["urn:ngsi-ld:null"] }""", """{ "a": "urn:ngsi-ld:nullx", "b": null }""",
        """{ "type": "Point", "coordinates": [1, 2] }""", "[]", "{}",
    };

    [Theory]
    [MemberData(nameof(Payloads))]
    public void Nested_null_read_from_the_payload_as_sent_is_what_its_node_holds(string payload)
    {
        var element = JsonElement.Parse(payload);
        Attr.HasNestedNull(element).Should().Be(Attr.HasNestedNull(JsonNode.Parse(payload)));
    }

    /// <summary>The instance as the parser built it before: an empty object grown one member at a time, its sub-attributes too.</summary>
    private static JsonObject Grown(JsonObject instance)
    {
        var grown = new JsonObject();
        foreach (var (name, value) in instance)
            grown.Add(name, value is JsonObject sub && Attr.IsSubAttribute(name) ? Grown(sub) : value?.DeepClone());
        return grown;
    }

    private static List<string> Texts(Entity entity) =>
        [.. entity.Attributes.SelectMany(a => a.Value.Select(i => a.Key + " " + i.ToJsonString()))];
}
