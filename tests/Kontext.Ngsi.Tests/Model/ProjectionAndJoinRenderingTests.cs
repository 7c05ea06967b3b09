using System.Text.Json.Nodes;
using Kontext.Ngsi.Formats;
using Kontext.Ngsi.Model;
using static Kontext.Ngsi.Tests.T;

namespace Kontext.Ngsi.Tests.Model;

/// <summary>
/// pick/omit with linked-entity selections (clause 4.21), the simplified forms of clause 4.5.4 and the inline and flat
/// renderings of a join (clause 4.5.23), over entities in memory.
/// </summary>
public class ProjectionAndJoinRenderingTests
{
    private static readonly DateTimeOffset T0 = new(2024, 5, 1, 12, 0, 0, TimeSpan.Zero);

    private static Entity Stored(string json) => new EntityOperations(T0).Create(Parse(json));

    private static readonly Entity Car = Stored("""
        { "id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle", "speed": 80,
          "owner": { "type": "Relationship", "object": "urn:ngsi-ld:Person:1" } }
        """);

    private static readonly Entity Owner = Stored("""
        { "id": "urn:ngsi-ld:Person:1", "type": "Person", "name": "Ana", "temperature": 36,
          "owner": { "type": "Relationship", "object": "urn:ngsi-ld:Person:2" } }
        """);

    private static readonly Entity Parent = Stored("""{ "id": "urn:ngsi-ld:Person:2", "type": "Person", "name": "Eva" }""");

    private static void ShouldEqualJson(JsonNode? actual, string expected) =>
        JsonNode.DeepEquals(actual, JsonNode.Parse(expected)).Should().BeTrue($"{actual?.ToJsonString()} should equal {expected}");

    private static Projection Pick(string text) => Projection.Select([], MemberSelection.Parse(text, "pick"), null, n => User.ExpandTerm(n));

    private static Projection Omit(string text) => Projection.Select([], null, MemberSelection.Parse(text, "omit"), n => User.ExpandTerm(n));

    private static async Task<LinkedEntities> JoinAsync(JoinMode mode, int level, Projection projection, List<int>? reads = null)
    {
        var all = new[] { Car, Owner, Parent }.ToDictionary(e => e.Id);
        return await LinkedEntities.FetchAsync(mode, level, [(Car, projection)], (ids, _) =>
        {
            reads?.Add(ids.Count);
            return Task.FromResult<IReadOnlyList<Entity>>(ids.Where(all.ContainsKey).Select(id => all[id]).ToList());
        }, maxEntities: 10, default);
    }

    [Fact]
    public void The_grammar_nests_selections_and_counts_hops()
    {
        var members = MemberSelection.Parse("id,owner{name|owner{name}}", "pick");

        members.Select(m => m.Name).Should().Equal("id", "owner");
        members[1].Linked!.Select(m => m.Name).Should().Equal("name", "owner");
        MemberSelection.Depth(members).Should().Be(2);
        Pick("id,owner{name|owner{name}}").Depth.Should().Be(2);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a,,b")]
    [InlineData("a|")]
    [InlineData("a{b")]
    [InlineData("a{{b}}")]
    [InlineData("a{}")]
    [InlineData("a}")]
    [InlineData("a=b")]
    public void A_malformed_selection_is_bad_request(string text) =>
        new Action(() => MemberSelection.Parse(text, "pick")).ShouldBeBadRequestData();

    [Fact]
    public async Task Inline_join_writes_the_linked_entity_with_its_own_selection()
    {
        var projection = Pick("id,owner{name}");
        var rendered = Render(Car, User, new RenderOptions(Projection: projection, Joined: await JoinAsync(JoinMode.Inline, 1, projection)));

        ShouldEqualJson(rendered, """
            { "id": "urn:ngsi-ld:Vehicle:1",
              "owner": { "type": "Relationship", "object": "urn:ngsi-ld:Person:1",
                         "entity": { "name": { "type": "Property", "value": "Ana" } } } }
            """);
    }

    [Fact]
    public async Task Omit_on_the_linked_entity_keeps_the_relationship_and_drops_the_member_there()
    {
        var projection = Omit("speed,owner{temperature}");
        var rendered = Render(Car, User, new RenderOptions(RenderFormat.KeyValues, Projection: projection, Joined: await JoinAsync(JoinMode.Inline, 1, projection)));

        ShouldEqualJson(rendered, """
            { "id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle",
              "owner": { "id": "urn:ngsi-ld:Person:1", "type": "Person", "name": "Ana", "owner": "urn:ngsi-ld:Person:2" } }
            """);
    }

    [Fact]
    public async Task Each_hop_is_one_batched_read_and_joinLevel_bounds_the_hops()
    {
        var reads = new List<int>();
        var joined = await JoinAsync(JoinMode.Flat, 2, Projection.All, reads);

        reads.Should().Equal(1, 1);
        joined.Flat.Select(f => f.Entity.Id).Should().Equal("urn:ngsi-ld:Person:1", "urn:ngsi-ld:Person:2");
        (await JoinAsync(JoinMode.Flat, 1, Projection.All)).Flat.Should().ContainSingle();
    }

    [Fact]
    public async Task A_join_reaching_more_linked_entities_than_allowed_is_too_many_results()
    {
        var act = () => LinkedEntities.FetchAsync(JoinMode.Flat, 1, [(Car, Projection.All)],
            (ids, _) => Task.FromResult<IReadOnlyList<Entity>>([]), maxEntities: 0, default);

        (await act.Should().ThrowAsync<Errors.NgsiException>()).Which.Error.Type.Should().EndWith("TooManyResults");
    }

    [Fact]
    public void The_simplified_form_keeps_the_member_name_of_language_json_and_vocab_properties_and_maps_datasets()
    {
        var e = Stored("""
            { "id": "urn:ngsi-ld:Vehicle:9", "type": "Vehicle",
              "name": { "type": "LanguageProperty", "languageMap": { "en": "Car" } },
              "config": { "type": "JsonProperty", "json": { "a": 1 } },
              "category": { "type": "VocabProperty", "vocab": "Sedan" },
              "speed": [ { "type": "Property", "value": 80 }, { "type": "Property", "value": 81, "datasetId": "urn:ngsi-ld:Dataset:gps" } ] }
            """);

        ShouldEqualJson(Render(e, User, new RenderOptions(RenderFormat.KeyValues)), """
            { "id": "urn:ngsi-ld:Vehicle:9", "type": "Vehicle",
              "name": { "languageMap": { "en": "Car" } },
              "config": { "json": { "a": 1 } },
              "category": { "vocab": "Sedan" },
              "speed": { "dataset": { "@none": 80, "urn:ngsi-ld:Dataset:gps": 81 } } }
            """);
    }

    [Fact]
    public void A_projection_that_leaves_nothing_says_so()
    {
        Pick("unknown").LeavesNothingOf(Car).Should().BeTrue();
        Pick("speed").LeavesNothingOf(Car).Should().BeFalse();
        Omit("id,type,speed,owner").LeavesNothingOf(Car).Should().BeTrue();
        (Projection.All with { DatasetIds = new HashSet<string> { "urn:x" } }).Instances(Iri("speed"), Car.Attributes.First().Value).Should().BeEmpty();
    }

    [Fact]
    public void A_datasetId_filter_shows_the_chosen_instances_in_their_stored_order_and_no_filter_shows_the_stored_list()
    {
        var e = Stored("""
            { "id": "urn:ngsi-ld:Vehicle:7", "type": "Vehicle",
              "speed": [ { "type": "Property", "value": 80 },
                         { "type": "Property", "value": 81, "datasetId": "urn:ngsi-ld:Dataset:gps" },
                         { "type": "Property", "value": 82, "datasetId": "urn:ngsi-ld:Dataset:radar" } ] }
            """);
        var speed = e.Attributes[Iri("speed")];
        var chosen = Projection.All with { DatasetIds = new HashSet<string> { "urn:ngsi-ld:Dataset:radar", Projection.DefaultInstance } };

        chosen.ShownInstances(Iri("speed"), speed).Select(i => i["value"]!.GetValue<int>()).Should().Equal(80, 82);
        Projection.All.ShownInstances(Iri("speed"), speed).Should().BeSameAs(speed);
        Omit("speed").ShownInstances(Iri("speed"), speed).Should().BeEmpty();
        (Omit("id,type") with { DatasetIds = new HashSet<string> { "urn:x" } }).LeavesNothingOf(e).Should().BeTrue();
        (Omit("id,type") with { DatasetIds = new HashSet<string> { "urn:ngsi-ld:Dataset:gps" } }).LeavesNothingOf(e).Should().BeFalse();
        ShouldEqualJson(Render(e, User, new RenderOptions(RenderFormat.Normalized, Projection: chosen)), """
            { "id": "urn:ngsi-ld:Vehicle:7", "type": "Vehicle",
              "speed": [ { "type": "Property", "value": 80 },
                         { "type": "Property", "value": 82, "datasetId": "urn:ngsi-ld:Dataset:radar" } ] }
            """);
    }
}
