using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.JsonLd;

namespace Kontext.Ngsi.Tests.ContextSources;

/// <summary>Merging local data and the answers of context sources (clause 4.3.6.4), and reading those answers.</summary>
public class EntityMergeTests
{
    private static Kontext.Ngsi.Model.Entity Source(string json) => SourceEntities.ReadOne(T.Obj(json), ContextProcessor.Core);

    private static string Core(string term) => T.DefaultVocab + term;

    private static string Speed(Kontext.Ngsi.Model.Entity entity) => entity.Attributes[Core("speed")].Single()["value"]!.ToJsonString();

    [Fact]
    public void Entities_with_the_same_id_become_one_with_the_union_of_types_and_attributes()
    {
        var merge = new EntityMerge();
        merge.Add(Source("""{"id": "urn:ngsi-ld:V:1", "type": "Vehicle", "name": {"type": "Property", "value": "a"}}"""));
        merge.Add(Source("""{"id": "urn:ngsi-ld:V:1", "type": "Car", "speed": {"type": "Property", "value": 3}}"""));
        merge.Add(Source("""{"id": "urn:ngsi-ld:V:2", "type": "Vehicle"}"""));

        merge.Entities.Select(e => e.Id).Should().Equal("urn:ngsi-ld:V:1", "urn:ngsi-ld:V:2");
        var one = merge.Find("urn:ngsi-ld:V:1")!;
        one.Types.Should().Equal(Core("Vehicle"), Core("Car"));
        one.Attributes.Keys.Should().Equal(Core("name"), Core("speed"));
    }

    [Theory]
    [InlineData("2026-01-01T10:00:00Z", "2026-01-01T11:00:00Z", "2")]
    [InlineData("2026-01-01T12:00:00Z", "2026-01-01T11:00:00Z", "1")]
    [InlineData("2026-01-01T12:00:00Z", "2026-01-01T12:00:00Z", "1")]
    public void The_instance_observed_most_recently_wins(string heldAt, string incomingAt, string expected)
    {
        var merge = new EntityMerge();
        merge.Add(Source($$$"""{"id": "urn:ngsi-ld:V:1", "type": "V", "speed": {"type": "Property", "value": 1, "observedAt": "{{{heldAt}}}"}}"""));
        merge.Add(Source($$$"""{"id": "urn:ngsi-ld:V:1", "type": "V", "speed": {"type": "Property", "value": 2, "observedAt": "{{{incomingAt}}}"}}"""));

        Speed(merge.Find("urn:ngsi-ld:V:1")!).Should().Be(expected);
    }

    [Fact]
    public void Without_observedAt_the_more_recent_modifiedAt_wins()
    {
        var merge = new EntityMerge();
        merge.Add(Source("""{"id": "urn:ngsi-ld:V:1", "type": "V", "speed": {"type": "Property", "value": 1, "modifiedAt": "2026-01-01T10:00:00Z"}}"""));
        merge.Add(Source("""{"id": "urn:ngsi-ld:V:1", "type": "V", "speed": {"type": "Property", "value": 2, "modifiedAt": "2026-01-02T10:00:00Z"}}"""));

        Speed(merge.Find("urn:ngsi-ld:V:1")!).Should().Be("2");
    }

    [Fact]
    public void Instances_with_other_datasetIds_are_added_beside_each_other()
    {
        var merge = new EntityMerge();
        merge.Add(Source("""{"id": "urn:ngsi-ld:V:1", "type": "V", "speed": {"type": "Property", "value": 1}}"""));
        merge.Add(Source("""{"id": "urn:ngsi-ld:V:1", "type": "V", "speed": {"type": "Property", "value": 2, "datasetId": "urn:ngsi-ld:Dataset:gps"}}"""));

        merge.Find("urn:ngsi-ld:V:1")!.Attributes[Core("speed")].Should().HaveCount(2);
    }

    [Fact]
    public void An_auxiliary_answer_only_fills_in_what_is_missing()
    {
        var merge = new EntityMerge();
        merge.Add(Source("""{"id": "urn:ngsi-ld:V:1", "type": "V", "speed": {"type": "Property", "value": 1}}"""));
        merge.AddAuxiliary(Source("""{"id": "urn:ngsi-ld:V:1", "type": "V", "speed": {"type": "Property", "value": 9, "observedAt": "2030-01-01T00:00:00Z"}, "colour": {"type": "Property", "value": "red"}}"""));
        merge.AddAuxiliary(Source("""{"id": "urn:ngsi-ld:V:2", "type": "V"}"""));

        Speed(merge.Find("urn:ngsi-ld:V:1")!).Should().Be("1");
        merge.Find("urn:ngsi-ld:V:1")!.Attributes.Should().ContainKey(Core("colour"));
        merge.Find("urn:ngsi-ld:V:2").Should().NotBeNull();
    }

    [Fact]
    public void A_source_answer_keeps_its_system_times_for_the_merge()
    {
        var entity = Source("""
            {"id": "urn:ngsi-ld:V:1", "type": "V", "createdAt": "2026-01-01T00:00:00Z", "modifiedAt": "2026-01-02T00:00:00Z",
             "speed": [{"type": "Property", "value": 1, "modifiedAt": "2026-01-02T00:00:00Z"},
                       {"type": "Property", "value": 2, "datasetId": "urn:ngsi-ld:Dataset:gps", "modifiedAt": "2026-01-03T00:00:00Z"}]}
            """);

        entity.ModifiedAt.Should().Be(DateTimeOffset.Parse("2026-01-02T00:00:00Z"));
        entity.Attributes[Core("speed")].Select(i => i["modifiedAt"]!.GetValue<string>()).Should().Equal("2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z");
    }

    [Fact]
    public void An_answer_that_is_not_an_entity_array_is_rejected() =>
        FluentActions.Invoking(() => SourceEntities.ReadMany(T.Obj("""{"id": "urn:ngsi-ld:V:1"}"""), ContextProcessor.Core))
            .Should().Throw<Kontext.Ngsi.Errors.NgsiException>();

    [Theory]
    [InlineData("1.1 urn:a, 1.1 urn:b (Kontext)", new[] { "urn:a", "urn:b" })]
    [InlineData("HTTP/1.1 broker-a,1.0 broker-b", new[] { "broker-a", "broker-b" })]
    [InlineData("", new string[0])]
    public void The_Via_chain_names_every_broker_a_request_passed(string header, string[] aliases) =>
        ViaChain.Aliases([header]).Should().BeEquivalentTo(aliases);
}
