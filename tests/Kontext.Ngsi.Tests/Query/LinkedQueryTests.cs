using System.Text.Json.Nodes;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;

namespace Kontext.Ngsi.Tests.Query;

/// <summary>
/// The q-language additions of clause 4.9: linked-entity terms rel{path} (with entity type hints), their resolution
/// into plain terms, language filters on LanguageProperties, expandValues, and "+" levels in scopeQ.
/// </summary>
public class LinkedQueryTests
{
    private static readonly JsonLdContext Core = ContextProcessor.Core;
    private static readonly string Vocab = CoreContext.DefaultVocab;

    [Fact]
    public void A_linked_term_parses_into_a_path_on_the_linked_entity()
    {
        var q = (QComparison)QLanguage.Parse("owner{name}==\"Ana\"", Core);

        q.Path.Attribute.Should().Be(Vocab + "owner");
        q.Path.IsTopLevel.Should().BeFalse();
        q.Path.Linked!.Types.Should().BeEmpty();
        q.Path.Linked.Path.Attribute.Should().Be(Vocab + "name");
        LinkedQuery.Depth(q).Should().Be(1);
    }

    [Theory]
    [InlineData("owner{Person:name}==\"Ana\"", new[] { "Person" })]
    [InlineData("owner{Person,Company:name}==\"Ana\"", new[] { "Person", "Company" })]
    public void Entity_types_before_a_colon_restrict_the_linked_entities(string q, string[] types) =>
        ((QComparison)QLanguage.Parse(q, Core)).Path.Linked!.Types.Should().Equal(types.Select(t => Vocab + t));

    [Fact]
    public void A_compact_IRI_with_a_known_prefix_is_an_attribute_not_a_type()
    {
        var path = ((QComparison)QLanguage.Parse("owner{ngsi-ld:name}==\"Ana\"", Core)).Path.Linked!;

        path.Types.Should().BeEmpty();
        path.Path.Attribute.Should().Be("https://uri.etsi.org/ngsi-ld/name");
    }

    [Fact]
    public void Linked_terms_nest_and_count_their_hops() =>
        LinkedQuery.Depth(QLanguage.Parse("a;owner{employer{name}}==\"X\"|b", Core)).Should().Be(2);

    [Theory]
    [InlineData("owner{name==1")]
    [InlineData("owner{}==1")]
    [InlineData("owner{Person:}==1")]
    public void A_malformed_linked_term_is_bad_request(string q) =>
        new Action(() => QLanguage.Parse(q, Core)).ShouldBeBadRequestData();

    [Fact]
    public async Task Resolution_queries_the_linked_entities_once_per_term_and_compares_the_relationship_with_their_ids()
    {
        var asked = new List<EntityQuery>();
        Task<IReadOnlyList<string>> Find(EntityQuery query, CancellationToken _)
        {
            asked.Add(query);
            return Task.FromResult<IReadOnlyList<string>>(["urn:ngsi-ld:Person:ana"]);
        }

        var resolved = await LinkedQuery.ResolveAsync(QLanguage.Parse("owner{Person:age}>30;speed>1", Core), Find, default);

        asked.Should().ContainSingle();
        asked[0].Type.Should().Be(new TypeIs(Vocab + "Person"));
        asked[0].Q.Should().Be(QLanguage.Parse("age>30", Core));
        var term = (QComparison)((QAnd)resolved).Operands[0];
        term.Should().Be(new QComparison(new QPath(Vocab + "owner"), QOp.Equal, new QValueList([new QUri("urn:ngsi-ld:Person:ana", "urn:ngsi-ld:Person:ana")])));
        LinkedQuery.Depth(resolved).Should().Be(0);
    }

    [Fact]
    public async Task A_resolved_term_matches_entities_linking_to_one_of_the_found_ids()
    {
        var resolved = await LinkedQuery.ResolveAsync(QLanguage.Parse("owner{name}==\"Ana\"", Core),
            (_, _) => Task.FromResult<IReadOnlyList<string>>(["urn:ngsi-ld:Person:1"]), default);
        var none = await LinkedQuery.ResolveAsync(QLanguage.Parse("owner{name}==\"Bob\"", Core),
            (_, _) => Task.FromResult<IReadOnlyList<string>>([]), default);
        var absent = await LinkedQuery.ResolveAsync(QLanguage.Parse("!owner{name}", Core),
            (_, _) => Task.FromResult<IReadOnlyList<string>>(["urn:ngsi-ld:Person:9"]), default);

        QEvaluator.Evaluate(resolved, QEvaluatorTests.Car).Should().BeTrue();
        QEvaluator.Evaluate(none, QEvaluatorTests.Car).Should().BeFalse();
        QEvaluator.Evaluate(absent, QEvaluatorTests.Car).Should().BeTrue("the car's owner is not one of the entities with a name");
    }

    [Fact]
    public void An_unresolved_linked_term_reaches_nothing() =>
        QEvaluator.Evaluate(QLanguage.Parse("owner{name}==\"Ana\"", Core), QEvaluatorTests.Car).Should().BeFalse();

    [Theory]
    [InlineData("title[en]==\"Car\"", true)]
    [InlineData("title[en]==\"Voiture\"", false)]
    [InlineData("title[FR]==\"Voiture\"", true)]
    [InlineData("title[*]==\"Voiture\"", true)]
    [InlineData("title[*]!=\"Car\"", false)]
    [InlineData("title[de]", false)]
    [InlineData("title[en]", true)]
    public void A_language_filter_looks_at_one_language_or_any(string q, bool expected) =>
        QEvaluator.Evaluate(QLanguage.Parse(q, Core), QEvaluatorTests.Car).Should().Be(expected);

    [Theory]
    [InlineData("owner>\"urn:a\"")]
    [InlineData("owner<=\"urn:z\"")]
    [InlineData("passengers>=\"urn:p:1\"")]
    [InlineData("owner~=Person")]
    public void A_relationship_meets_only_equal_and_unequal(string q) =>
        QEvaluator.Evaluate(QLanguage.Parse(q, Core), QEvaluatorTests.Car).Should().BeFalse();

    [Fact]
    public void ExpandValues_decides_which_attributes_compare_with_expanded_terms()
    {
        var expanded = new HashSet<string> { Vocab + "category" };

        QEvaluator.Evaluate(QLanguage.Parse("category==sedan", Core, expanded), QEvaluatorTests.Car).Should().BeTrue();
        QEvaluator.Evaluate(QLanguage.Parse("category==sedan", Core, new HashSet<string>()), QEvaluatorTests.Car).Should().BeFalse();
        QEvaluator.Evaluate(QLanguage.Parse("category==sedan", Core), QEvaluatorTests.Car).Should().BeTrue("without a list every value is expanded");
    }

    [Theory]
    [InlineData("/Madrid/+/Norte", "/Madrid/Centro/Norte", true)]
    [InlineData("/Madrid/+/Norte", "/Madrid/Centro/Sur", false)]
    [InlineData("/Madrid/+/Norte", "/Madrid/Norte", false)]
    [InlineData("/+", "/Bilbao", true)]
    [InlineData("/+", "/Bilbao/Centro", false)]
    [InlineData("/+/Centro/#", "/Bilbao/Centro/Casco", true)]
    public void A_plus_level_in_scopeQ_matches_any_one_level(string scopeQ, string scope, bool expected) =>
        SelectorExpressions.Matches(SelectorExpressions.ParseScope(scopeQ), [scope]).Should().Be(expected);

    [Fact]
    public void Type_star_selects_every_type() =>
        EntityQuery.Parse(new EntityQueryParameters(Type: "*"), Core).Type.Should().BeNull();

    [Fact]
    public void An_entity_selector_takes_several_ids_which_win_over_idPattern()
    {
        var selector = EntitySelector.Parse(JsonNode.Parse("""{"type":"Car","id":["urn:a:1","urn:a:2"],"idPattern":"x"}""")!.AsObject(), Core);

        selector.Ids.Should().Equal("urn:a:1", "urn:a:2");
        selector.IdPattern.Should().BeNull();
        new Action(() => EntitySelector.Parse(JsonNode.Parse("""{"id":"urn:a:1"}""")!.AsObject(), Core, typeRequired: true)).ShouldBeBadRequestData();
    }
}
