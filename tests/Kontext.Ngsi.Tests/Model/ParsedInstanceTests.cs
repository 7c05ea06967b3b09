using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Model;
using static Kontext.Ngsi.Tests.T;

namespace Kontext.Ngsi.Tests.Model;

/// <summary>
/// A parsed instance as the writes keep it: its members in the order sent, then its type, then the broker's times; a
/// deletion parsed as such; NGSI-LD Null inside a value found on the payload as sent as on its node.
/// </summary>
public class ParsedInstanceTests
{
    private static readonly DateTimeOffset T0 = new(2024, 5, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset T1 = new(2024, 5, 2, 8, 30, 0, 123, TimeSpan.Zero);
    private const string Id = "urn:ngsi-ld:Vehicle:1";

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

    private static List<string> Texts(Entity entity) =>
        [.. entity.Attributes.SelectMany(a => a.Value.Select(i => a.Key + " " + i.ToJsonString()))];
}
