using Kontext.Ngsi.Errors;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Query;

namespace Kontext.Ngsi.Tests.Query;

public class EntityQueryTests
{
    private const string Default = "https://uri.etsi.org/ngsi-ld/default-context/";
    private static readonly JsonLdContext Core = ContextProcessor.Core;

    private static readonly Kontext.Ngsi.Model.Entity Both = QEvaluatorTests.Entity(
        """{"id": "urn:ngsi-ld:Shop:7", "type": ["Shop", "Cafe"], "scope": ["/Madrid/Centro", "/Spain"], "name": "Bar"}""");

    private static bool Matches(EntityQueryParameters p) => EntityMatcher.Matches(Both, EntityQuery.Parse(p, Core));

    [Fact]
    public void Type_selector_parses_to_expanded_and_or_tree()
    {
        SelectorExpressions.ParseType("(A,B);C|D", Core).Should().Be(new TypeOr([
            new TypeAnd([new TypeOr([new TypeIs(Default + "A"), new TypeIs(Default + "B")]), new TypeIs(Default + "C")]),
            new TypeIs(Default + "D"),
        ]));
    }

    [Theory]
    [InlineData("Shop", true)]
    [InlineData("Bar", false)]
    [InlineData("Bar,Cafe", true)]
    [InlineData("Bar|Cafe", true)]
    [InlineData("Shop;Cafe", true)]
    [InlineData("Shop;Bar", false)]
    [InlineData("(Bar;Shop),(Cafe;Shop)", true)]
    public void Type_selector_matches(string type, bool expected) => Matches(new(Type: type)).Should().Be(expected);

    [Theory]
    [InlineData("(Shop", "'(' at position 0 is never closed")]
    [InlineData("Shop)", "unexpected ')' at position 4")]
    [InlineData("Shop,,Cafe", "expected a name at position 5")]
    [InlineData("Shop;", "expected a name but the expression ends at position 5")]
    [InlineData("Sh\"op", "forbidden character")]
    public void Invalid_type_selector_is_bad_request_with_position(string type, string messagePart)
    {
        var act = () => EntityQuery.Parse(new(Type: type), Core);
        act.Should().Throw<NgsiException>().WithMessage($"type: *{messagePart}*");
    }

    [Fact]
    public void Scope_query_parses()
    {
        SelectorExpressions.ParseScope("/a/b/#,/c;/#").Should().Be(new ScopeOr([
            new ScopeIs("/a/b", true),
            new ScopeAnd([new ScopeIs("/c", false), new ScopeIs("", true)]),
        ]));
    }

    [Theory]
    [InlineData("/Madrid/Centro", true)]
    [InlineData("/Madrid", false)]
    [InlineData("/Madrid/#", true)]
    [InlineData("/Madrid/Centro/#", true)]
    [InlineData("/Mad/#", false)]
    [InlineData("/#", true)]
    [InlineData("/Madrid/#;/Spain", true)]
    [InlineData("/Madrid/#;/France", false)]
    [InlineData("/France,/Spain", true)]
    public void Scope_query_matches(string scopeQ, bool expected) => Matches(new(ScopeQ: scopeQ)).Should().Be(expected);

    [Fact]
    public void Scope_query_does_not_match_an_entity_without_scope()
    {
        var unscoped = QEvaluatorTests.Entity("""{"id": "urn:x:1", "type": "T"}""");
        EntityMatcher.Matches(unscoped, EntityQuery.Parse(new(ScopeQ: "/#"), Core)).Should().BeFalse();
    }

    [Theory]
    [InlineData("Madrid", "invalid scope 'Madrid' at position 0")]
    [InlineData("/a;/b#", "invalid scope '/b#' at position 3")]
    [InlineData("/a;", "expected a name but the expression ends at position 3")]
    public void Invalid_scope_query_is_bad_request_with_position(string scopeQ, string messagePart)
    {
        var act = () => EntityQuery.Parse(new(ScopeQ: scopeQ), Core);
        act.Should().Throw<NgsiException>().WithMessage($"scopeQ: *{messagePart}*");
    }

    [Theory]
    [InlineData("urn:ngsi-ld:Shop:7", true)]
    [InlineData("urn:ngsi-ld:Shop:1, urn:ngsi-ld:Shop:7", true)]
    [InlineData("urn:ngsi-ld:Shop:1", false)]
    public void Ids_match_any(string id, bool expected) => Matches(new(Id: id)).Should().Be(expected);

    [Fact]
    public void Invalid_id_is_bad_request()
    {
        var act = () => EntityQuery.Parse(new(Id: "urn:a:1,not a uri"), Core);
        act.Should().Throw<NgsiException>().WithMessage("*not a uri*");
    }

    [Theory]
    [InlineData("^urn:ngsi-ld:Shop:", true)]
    [InlineData("Shop:[0-9]$", true)]
    [InlineData("^urn:ngsi-ld:Car:", false)]
    public void Id_pattern_matches(string idPattern, bool expected) => Matches(new(IdPattern: idPattern)).Should().Be(expected);

    [Fact]
    public void Invalid_id_pattern_is_bad_request()
    {
        var act = () => EntityQuery.Parse(new(IdPattern: "urn:(x"), Core);
        act.Should().Throw<NgsiException>().Where(e => e.Error.Status == 400).WithMessage("idPattern: invalid regular expression*");
    }

    [Fact]
    public void All_parts_must_hold()
    {
        Matches(new(Type: "Shop", Id: "urn:ngsi-ld:Shop:7", Q: "name==\"Bar\"", ScopeQ: "/Spain")).Should().BeTrue();
        Matches(new(Type: "Shop", Id: "urn:ngsi-ld:Shop:7", Q: "name==\"Pub\"", ScopeQ: "/Spain")).Should().BeFalse();
    }

    [Fact]
    public void Empty_parameters_make_the_match_all_query()
    {
        EntityQuery.Parse(new(Type: "", Q: " "), Core).Should().Be(EntityQuery.All);
        EntityMatcher.Matches(Both, EntityQuery.All).Should().BeTrue();
    }
}
