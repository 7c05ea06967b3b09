using System.Text.Json.Nodes;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Model;
using static Kontext.Ngsi.Tests.T;

namespace Kontext.Ngsi.Tests.Model;

public class EntityOperationsTests
{
    private static readonly DateTimeOffset T0 = new(2024, 5, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset T1 = new(2024, 5, 2, 8, 30, 0, 123, TimeSpan.Zero);
    private const string T0Text = "2024-05-01T12:00:00.000Z";
    private const string T1Text = "2024-05-02T08:30:00.123Z";
    private const string Gps = "urn:ngsi-ld:Dataset:gps";
    private const string Id = "urn:ngsi-ld:Vehicle:1";

    private static Entity Existing() => new EntityOperations(T0).Create(Parse($$"""
        {
          "id": "{{Id}}", "type": "Vehicle",
          "speed": [
            { "type": "Property", "value": 80, "unitCode": "KMH", "accuracy": { "value": 1 }, "temperature": { "value": 20 } },
            { "type": "Property", "value": 81, "datasetId": "{{Gps}}" }
          ],
          "name": { "type": "Property", "value": "Herbie" },
          "owner": { "type": "Relationship", "object": "urn:ngsi-ld:Person:1" }
        }
        """));

    private static Entity Fragment(string json, ParseMode mode = ParseMode.Full) =>
        EntityParser.ParseFragment(Obj(json), User, mode, Id);

    private static JsonObject Instance(string json, ParseMode mode) =>
        EntityParser.ParseAttribute("x", "x", JsonNode.Parse(json), User, mode).Single();

    [Fact]
    public void Create_stamps_entity_and_every_instance_and_records_a_created_change_for_each()
    {
        var ops = new EntityOperations(T0);
        var e = ops.Create(Parse("""{ "id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle", "speed": [ { "value": 1 }, { "value": 2, "datasetId": "urn:ds:1" } ], "name": "x" }"""));
        e.CreatedAt.Should().Be(T0);
        e.ModifiedAt.Should().Be(T0);
        e.Attributes[Iri("speed")].Should().AllSatisfy(i => i["createdAt"]!.GetValue<string>().Should().Be(T0Text));
        ops.Changes.Select(c => (c.Attribute, c.DatasetId, c.Kind)).Should().Equal(
            (Iri("speed"), null, AttributeChangeKind.Created),
            (Iri("speed"), "urn:ds:1", AttributeChangeKind.Created),
            (Iri("name"), (string?)null, AttributeChangeKind.Created));
    }

    [Fact]
    public void Append_overwrites_existing_and_adds_new_attributes()
    {
        var e = Existing();
        var ops = new EntityOperations(T1);
        var result = ops.Append(e, Fragment("""{ "speed": 99, "temperature": 21 }"""), noOverwrite: false);

        result.Updated.Should().Equal(Iri("speed"), Iri("temperature"));
        result.NotUpdated.Should().BeEmpty();
        result.IsComplete.Should().BeTrue();
        var speed = e.FindInstance(Iri("speed"), null)!;
        speed["value"]!.GetValue<int>().Should().Be(99);
        speed.ContainsKey("unitCode").Should().BeFalse("append replaces the instance whole");
        speed["createdAt"]!.GetValue<string>().Should().Be(T0Text);
        speed["modifiedAt"]!.GetValue<string>().Should().Be(T1Text);
        e.FindInstance(Iri("speed"), Gps)!["value"]!.GetValue<int>().Should().Be(81);
        e.ModifiedAt.Should().Be(T1);
        e.CreatedAt.Should().Be(T0);
        ops.Changes.Select(c => (c.Attribute, c.DatasetId, c.Kind)).Should().Equal(
            (Iri("speed"), (string?)null, AttributeChangeKind.Updated),
            (Iri("temperature"), (string?)null, AttributeChangeKind.Created));
    }

    [Fact]
    public void Append_with_no_overwrite_keeps_existing_attributes_and_reports_them()
    {
        var e = Existing();
        var ops = new EntityOperations(T1);
        var result = ops.Append(e, Fragment("""{ "speed": 99, "temperature": 21 }"""), noOverwrite: true);

        result.Updated.Should().Equal(Iri("temperature"));
        result.NotUpdated.Should().ContainSingle().Which.AttributeName.Should().Be(Iri("speed"));
        result.IsComplete.Should().BeFalse();
        e.FindInstance(Iri("speed"), null)!["value"]!.GetValue<int>().Should().Be(80);
        ops.Changes.Should().ContainSingle().Which.Should().Match<AttributeChange>(c => c.Attribute == Iri("temperature") && c.Kind == AttributeChangeKind.Created);
    }

    [Fact]
    public void Append_with_no_overwrite_still_adds_a_new_dataset_instance()
    {
        var e = Existing();
        var ops = new EntityOperations(T1);
        var result = ops.Append(e, Fragment("""{ "speed": { "value": 5, "datasetId": "urn:ngsi-ld:Dataset:radar" } }"""), noOverwrite: true);
        result.Updated.Should().Equal(Iri("speed"));
        e.Attributes[Iri("speed")].Should().HaveCount(3);
    }

    [Fact]
    public void Update_replaces_existing_attributes_and_appends_the_ones_the_entity_lacks()
    {
        // v1.9.1 clause 5.6.2: Update Attributes no longer reports an attribute the entity lacks, it appends it.
        var e = Existing();
        var ops = new EntityOperations(T1);
        var result = ops.Update(e, Fragment("""{ "name": "Bumblebee", "colour": "yellow", "speed": { "value": 1, "datasetId": "urn:ngsi-ld:Dataset:radar" } }""", ParseMode.Merge));

        result.Updated.Should().Equal(Iri("name"), DefaultVocab + "colour", Iri("speed"));
        result.IsComplete.Should().BeTrue();
        e.FindInstance(DefaultVocab + "colour", null)!["value"]!.GetValue<string>().Should().Be("yellow");
        e.Attributes[Iri("speed")].Should().HaveCount(3);
        e.FindInstance(Iri("name"), null)!["value"]!.GetValue<string>().Should().Be("Bumblebee");
        ops.Changes.Select(c => c.Kind).Should().Equal(AttributeChangeKind.Updated, AttributeChangeKind.Created, AttributeChangeKind.Created);
    }

    [Fact]
    public void Update_with_ngsi_ld_null_for_a_missing_attribute_reports_it_not_updated()
    {
        var e = Existing();
        var ops = new EntityOperations(T1);
        var result = ops.Update(e, Fragment("""{ "colour": "urn:ngsi-ld:null" }""", ParseMode.Merge));

        result.NotUpdated.Select(n => n.AttributeName).Should().Equal(DefaultVocab + "colour");
        ops.Changes.Should().BeEmpty();
    }

    [Fact]
    public void Update_with_ngsi_ld_null_deletes_the_instance()
    {
        var e = Existing();
        var ops = new EntityOperations(T1);
        ops.Update(e, Fragment("""{ "name": "urn:ngsi-ld:null" }""", ParseMode.Merge)).Updated.Should().Equal(Iri("name"));
        e.Attributes.Should().NotContainKey(Iri("name"));
        ops.Changes.Should().ContainSingle().Which.Kind.Should().Be(AttributeChangeKind.Deleted);
    }

    [Fact]
    public void Partial_update_merges_members_and_sub_attributes_and_keeps_the_rest()
    {
        var e = Existing();
        var ops = new EntityOperations(T1);
        ops.PartialUpdate(e, Iri("speed"), Instance("""{ "value": 90, "accuracy": { "value": 2 } }""", ParseMode.Merge));

        var speed = e.FindInstance(Iri("speed"), null)!;
        speed["value"]!.GetValue<int>().Should().Be(90);
        speed["unitCode"]!.GetValue<string>().Should().Be("KMH");
        speed[Iri("accuracy")]!["value"]!.GetValue<int>().Should().Be(2);
        speed[Iri("accuracy")]!["createdAt"]!.GetValue<string>().Should().Be(T0Text);
        speed[Iri("accuracy")]!["modifiedAt"]!.GetValue<string>().Should().Be(T1Text);
        speed[Iri("temperature")]!["value"]!.GetValue<int>().Should().Be(20);
        speed[Iri("temperature")]!["modifiedAt"]!.GetValue<string>().Should().Be(T0Text, "an untouched sub-attribute keeps its times");
        speed["createdAt"]!.GetValue<string>().Should().Be(T0Text);
        e.FindInstance(Iri("speed"), Gps)!["value"]!.GetValue<int>().Should().Be(81);
        ops.Changes.Should().ContainSingle().Which.Should().Match<AttributeChange>(c => c.Attribute == Iri("speed") && c.DatasetId == null && c.Kind == AttributeChangeKind.Updated);
    }

    [Fact]
    public void Partial_update_with_null_removes_a_sub_attribute()
    {
        var e = Existing();
        new EntityOperations(T1).PartialUpdate(e, Iri("speed"), Instance("""{ "accuracy": "urn:ngsi-ld:null", "value": 1 }""", ParseMode.Merge));
        e.FindInstance(Iri("speed"), null)!.ContainsKey(Iri("accuracy")).Should().BeFalse();
        e.FindInstance(Iri("speed"), null)!.ContainsKey(Iri("temperature")).Should().BeTrue();
    }

    [Fact]
    public void Partial_update_of_a_missing_instance_is_not_found_and_a_type_change_is_bad_request()
    {
        var e = Existing();
        var ops = new EntityOperations(T1);
        ((Action)(() => ops.PartialUpdate(e, Iri("speed"), Instance("""{ "value": 1, "datasetId": "urn:ngsi-ld:Dataset:radar" }""", ParseMode.Merge))))
            .Should().Throw<NgsiException>().Which.Error.Status.Should().Be(404);
        ((Action)(() => ops.PartialUpdate(e, Iri("speed"), Instance("""{ "object": "urn:a:b" }""", ParseMode.Merge)))).ShouldBeBadRequestData();
    }

    [Fact]
    public void Replace_attribute_replaces_the_instance_whole_and_keeps_created_at()
    {
        var e = Existing();
        var ops = new EntityOperations(T1);
        ops.ReplaceAttribute(e, Iri("speed"), Instance("""{ "type": "Property", "value": 7 }""", ParseMode.Full));

        var speed = e.FindInstance(Iri("speed"), null)!;
        speed["value"]!.GetValue<int>().Should().Be(7);
        speed.ContainsKey("unitCode").Should().BeFalse();
        speed.ContainsKey(Iri("accuracy")).Should().BeFalse();
        speed["createdAt"]!.GetValue<string>().Should().Be(T0Text);
        speed["modifiedAt"]!.GetValue<string>().Should().Be(T1Text);
        ops.Changes.Should().ContainSingle().Which.Kind.Should().Be(AttributeChangeKind.Updated);

        ((Action)(() => ops.ReplaceAttribute(e, Iri("colour"), Instance("""{ "value": 7 }""", ParseMode.Full))))
            .Should().Throw<NgsiException>().Which.Error.Type.Should().EndWith("ResourceNotFound");
    }

    [Fact]
    public void Delete_attribute_without_dataset_id_removes_only_the_default_instance()
    {
        var e = Existing();
        var ops = new EntityOperations(T1);
        ops.DeleteAttribute(e, Iri("speed"), null, deleteAll: false);
        e.Attributes[Iri("speed")].Select(Attr.DatasetId).Should().Equal(Gps);
        // The deletion keeps the removed instance's type, so history and notifications show NGSI-LD Null in its form.
        ops.Changes.Should().ContainSingle().Which.Should().Match<AttributeChange>(c => c.DatasetId == null && c.Kind == AttributeChangeKind.Deleted
            && c.Instance != null && c.Instance["type"]!.GetValue<string>() == "Property");
        e.ModifiedAt.Should().Be(T1);
    }

    [Fact]
    public void Delete_attribute_with_dataset_id_removes_that_instance()
    {
        var e = Existing();
        var ops = new EntityOperations(T1);
        ops.DeleteAttribute(e, Iri("speed"), Gps, deleteAll: false);
        e.Attributes[Iri("speed")].Select(Attr.DatasetId).Should().Equal((string?)null);
        ops.Changes.Single().DatasetId.Should().Be(Gps);
    }

    [Fact]
    public void Delete_attribute_with_delete_all_removes_every_instance()
    {
        var e = Existing();
        var ops = new EntityOperations(T1);
        ops.DeleteAttribute(e, Iri("speed"), null, deleteAll: true);
        e.Attributes.Should().NotContainKey(Iri("speed"));
        ops.Changes.Select(c => (c.DatasetId, c.Kind)).Should().BeEquivalentTo(new[] { ((string?)null, AttributeChangeKind.Deleted), (Gps, AttributeChangeKind.Deleted) });
    }

    [Fact]
    public void Deleting_the_last_instance_removes_the_attribute()
    {
        var e = Existing();
        new EntityOperations(T1).DeleteAttribute(e, Iri("name"), null, deleteAll: false);
        e.Attributes.Should().NotContainKey(Iri("name"));
    }

    [Fact]
    public void Delete_of_a_missing_attribute_or_instance_is_404()
    {
        var e = Existing();
        var ops = new EntityOperations(T1);
        ((Action)(() => ops.DeleteAttribute(e, Iri("colour"), null, false))).Should().Throw<NgsiException>().Which.Error.Status.Should().Be(404);
        ((Action)(() => ops.DeleteAttribute(e, Iri("name"), "urn:ngsi-ld:Dataset:none", false))).Should().Throw<NgsiException>().Which.Error.Type.Should().EndWith("ResourceNotFound");
        ops.Changes.Should().BeEmpty();
    }

    [Fact]
    public void Merge_with_null_deletes_an_attribute_that_has_only_a_default_instance()
    {
        var e = Existing();
        var ops = new EntityOperations(T1);
        ops.Merge(e, Fragment("""{ "name": "urn:ngsi-ld:null" }""", ParseMode.Merge));
        e.Attributes.Should().NotContainKey(Iri("name"));
        ops.Changes.Should().ContainSingle().Which.Should().Match<AttributeChange>(c => c.Attribute == Iri("name") && c.Kind == AttributeChangeKind.Deleted);
    }

    [Fact]
    public void Merge_with_null_deletes_only_the_default_instance()
    {
        var e = Existing();
        var ops = new EntityOperations(T1);
        ops.Merge(e, Fragment("""{ "speed": null }""", ParseMode.Merge));
        e.Attributes[Iri("speed")].Select(Attr.DatasetId).Should().Equal(Gps);
        ops.Changes.Single().DatasetId.Should().BeNull();
    }

    [Fact]
    public void Merge_with_null_and_a_dataset_id_deletes_that_instance()
    {
        var e = Existing();
        var ops = new EntityOperations(T1);
        ops.Merge(e, Fragment($$"""{ "speed": { "value": "urn:ngsi-ld:null", "datasetId": "{{Gps}}" } }""", ParseMode.Merge));
        e.Attributes[Iri("speed")].Select(Attr.DatasetId).Should().Equal((string?)null);
        e.FindInstance(Iri("speed"), null)!["value"]!.GetValue<int>().Should().Be(80);
        ops.Changes.Single().Should().Match<AttributeChange>(c => c.DatasetId == Gps && c.Kind == AttributeChangeKind.Deleted);
    }

    [Fact]
    public void Merge_merges_sub_attributes_adds_new_attributes_and_removes_nulled_metadata()
    {
        var e = Existing();
        var ops = new EntityOperations(T1);
        ops.Merge(e, Fragment("""{ "speed": { "value": 85, "unitCode": "urn:ngsi-ld:null", "temperature": "urn:ngsi-ld:null" }, "colour": "red", "type": "Truck" }""", ParseMode.Merge));

        var speed = e.FindInstance(Iri("speed"), null)!;
        speed["value"]!.GetValue<int>().Should().Be(85);
        speed.ContainsKey("unitCode").Should().BeFalse();
        speed.ContainsKey(Iri("temperature")).Should().BeFalse();
        speed.ContainsKey(Iri("accuracy")).Should().BeTrue();
        e.FindInstance(DefaultVocab + "colour", null)!["value"]!.GetValue<string>().Should().Be("red");
        e.Types.Should().Equal(Iri("Vehicle"), Iri("Truck"));
        ops.Changes.Select(c => (c.Attribute, c.Kind)).Should().Equal(
            (Iri("speed"), AttributeChangeKind.Updated),
            (DefaultVocab + "colour", AttributeChangeKind.Created));
    }

    [Fact]
    public void Merge_of_a_missing_attribute_without_a_value_is_bad_request()
    {
        var e = Existing();
        ((Action)(() => new EntityOperations(T1).Merge(e, Fragment("""{ "colour": { "type": "Property", "unitCode": "X" } }""", ParseMode.Merge))))
            .ShouldBeBadRequestData();
    }

    [Fact]
    public void Merge_with_null_of_a_missing_attribute_changes_nothing()
    {
        var e = Existing();
        var ops = new EntityOperations(T1);
        ops.Merge(e, Fragment("""{ "colour": "urn:ngsi-ld:null" }""", ParseMode.Merge));
        ops.Changes.Should().BeEmpty();
        e.Attributes.Count.Should().Be(3);
    }

    [Fact]
    public void Replace_entity_keeps_created_at_and_records_deletions_updates_and_creations()
    {
        var e = Existing();
        var ops = new EntityOperations(T1);
        var replaced = ops.Replace(e, Parse($$"""{ "id": "{{Id}}", "type": "Truck", "name": "Optimus", "colour": "red" }"""));

        replaced.CreatedAt.Should().Be(T0);
        replaced.ModifiedAt.Should().Be(T1);
        replaced.Types.Should().Equal(Iri("Truck"));
        replaced.Attributes.Keys.Should().BeEquivalentTo(Iri("name"), DefaultVocab + "colour");
        replaced.FindInstance(Iri("name"), null)!["createdAt"]!.GetValue<string>().Should().Be(T0Text);
        replaced.FindInstance(DefaultVocab + "colour", null)!["createdAt"]!.GetValue<string>().Should().Be(T1Text);
        ops.Changes.Select(c => (c.Attribute, c.DatasetId, c.Kind)).Should().BeEquivalentTo(new[]
        {
            (Iri("speed"), (string?)null, AttributeChangeKind.Deleted),
            (Iri("speed"), Gps, AttributeChangeKind.Deleted),
            (Iri("owner"), null, AttributeChangeKind.Deleted),
            (Iri("name"), null, AttributeChangeKind.Updated),
            (DefaultVocab + "colour", null, AttributeChangeKind.Created),
        });
    }

    [Fact]
    public void Changes_carry_the_written_instance_for_creations_and_updates()
    {
        var e = Existing();
        var ops = new EntityOperations(T1);
        ops.Append(e, Fragment("""{ "name": "x" }"""), noOverwrite: false);
        var change = ops.Changes.Single();
        change.Instance.Should().NotBeNull();
        change.Instance!["value"]!.GetValue<string>().Should().Be("x");
        change.Instance.Should().BeSameAs(e.FindInstance(Iri("name"), null));
    }
}
