using System.Text.Json.Nodes;
using Kontext.Ngsi.Model;
using static Kontext.Ngsi.Tests.T;

namespace Kontext.Ngsi.Tests.Model;

public class EntityJsonTests
{
    private static Entity Sample()
    {
        var e = new EntityOperations(new DateTimeOffset(2024, 5, 1, 12, 0, 0, 123, TimeSpan.Zero)).Create(Parse("""
            {
              "id": "urn:ngsi-ld:Vehicle:1", "type": ["Vehicle", "Truck"], "scope": ["/a", "/b"],
              "speed": [ { "type": "Property", "value": 80, "unitCode": "KMH", "accuracy": { "value": 0.5 } },
                         { "type": "Property", "value": 81.25, "datasetId": "urn:ngsi-ld:Dataset:gps", "observedAt": "2024-05-01T10:00:00Z" } ],
              "owner": { "type": "Relationship", "object": ["urn:ngsi-ld:Person:1", "urn:ngsi-ld:Person:2"], "objectType": "Person" },
              "location": { "type": "Point", "coordinates": [4.35, 50.85] },
              "name": { "languageMap": { "en": "Car", "nl": ["Auto", "Wagen"] } },
              "category": { "vocab": "Sedan" },
              "config": { "json": { "a": [1, null, { "b": "c" }] } },
              "readings": { "valueList": [1, "two"] },
              "fleet": { "objectList": ["urn:ngsi-ld:Vehicle:2"] },
              "unicode": "Zürich ✓ \"quoted\""
            }
            """));
        e.ModifiedAt = new DateTimeOffset(2024, 6, 2, 3, 4, 5, 678, TimeSpan.FromHours(2)).AddTicks(9);
        return e;
    }

    private static void ShouldBeEquivalent(Entity actual, Entity expected)
    {
        actual.Id.Should().Be(expected.Id);
        actual.Types.Should().Equal(expected.Types);
        actual.Scopes.Should().Equal(expected.Scopes);
        actual.CreatedAt.Should().Be(expected.CreatedAt);
        actual.ModifiedAt.Should().Be(expected.ModifiedAt);
        actual.ModifiedAt.Offset.Should().Be(expected.ModifiedAt.Offset);
        actual.Attributes.Keys.Should().Equal(expected.Attributes.Keys);
        foreach (var (name, instances) in expected.Attributes)
        {
            actual.Attributes[name].Should().HaveCount(instances.Count);
            for (var i = 0; i < instances.Count; i++)
                JsonNode.DeepEquals(actual.Attributes[name][i], instances[i]).Should().BeTrue($"{name}[{i}]: {actual.Attributes[name][i].ToJsonString()}");
        }
    }

    [Fact]
    public void Serialize_then_deserialize_preserves_everything()
    {
        var original = Sample();
        var bytes = EntityJson.Serialize(original);

        var back = EntityJson.Deserialize(bytes);

        ShouldBeEquivalent(back, original);
        EntityJson.Serialize(back).Should().Equal(bytes);
    }

    [Fact]
    public void The_string_overload_reads_the_same_entity()
    {
        var original = Sample();
        var back = EntityJson.Deserialize(System.Text.Encoding.UTF8.GetString(EntityJson.Serialize(original)));
        ShouldBeEquivalent(back, original);
    }

    [Fact]
    public void An_entity_without_scope_or_attributes_round_trips()
    {
        var original = new Entity("urn:ngsi-ld:Thing:1") { Types = ["urn:t:T"], CreatedAt = DateTimeOffset.UnixEpoch, ModifiedAt = DateTimeOffset.UnixEpoch };
        var back = EntityJson.Deserialize(EntityJson.Serialize(original));
        ShouldBeEquivalent(back, original);
        back.Scopes.Should().BeNull();
        back.Attributes.Should().BeEmpty();
    }

    [Fact]
    public void Deserialized_instances_are_detached_and_can_be_reused()
    {
        var back = EntityJson.Deserialize(EntityJson.Serialize(Sample()));
        var instance = back.Attributes[Iri("speed")][0];
        instance.Parent.Should().BeNull();
        var act = () => new JsonArray(instance);
        act.Should().NotThrow();
    }

    [Fact]
    public void A_clone_is_deep()
    {
        var original = Sample();
        var clone = original.Clone();
        clone.Attributes[Iri("speed")][0]["value"] = 1;
        clone.Types.Add("urn:t:Other");
        original.Attributes[Iri("speed")][0]["value"]!.GetValue<int>().Should().Be(80);
        original.Types.Should().HaveCount(2);
    }
}
