using Kontext.Ngsi.Errors;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Query;

namespace Kontext.Ngsi.Tests.Query;

public class QLanguageTests
{
    private const string Default = "https://uri.etsi.org/ngsi-ld/default-context/";
    private static readonly JsonLdContext Core = ContextProcessor.Core;

    private static QExpr Parse(string q) => QLanguage.Parse(q, Core);
    private static QPath Path(string name) => new(Default + name);
    private static QString Str(string s) => new(s, Core.ExpandTerm(s));

    private static void ShouldFail(string q, string messagePart)
    {
        var act = () => Parse(q);
        act.Should().Throw<NgsiException>()
            .Where(e => e.Error.Type.EndsWith("BadRequestData"))
            .WithMessage($"q: *{messagePart}*");
    }

    [Fact]
    public void Q_with_bare_attribute_is_existence()
    {
        Parse("speed").Should().Be(new QExists(Path("speed"), Negated: false));
    }

    [Fact]
    public void Q_with_bang_is_non_existence()
    {
        Parse("!speed").Should().Be(new QExists(Path("speed"), Negated: true));
    }

    [Theory]
    [InlineData("speed==5", QOp.Equal)]
    [InlineData("speed!=5", QOp.NotEqual)]
    [InlineData("speed>5", QOp.Greater)]
    [InlineData("speed>=5", QOp.GreaterOrEqual)]
    [InlineData("speed<5", QOp.Less)]
    [InlineData("speed<=5", QOp.LessOrEqual)]
    public void Q_comparison_operators_parse(string q, QOp op)
    {
        Parse(q).Should().Be(new QComparison(Path("speed"), op, new QNumber(5)));
    }

    [Fact]
    public void Q_regex_operators_take_the_rest_of_the_term_including_its_own_parentheses()
    {
        Parse("name~=(?i)ab(c|d)e;speed").Should().Be(new QAnd([
            new QComparison(Path("name"), QOp.Matches, new QPattern("(?i)ab(c|d)e")),
            new QExists(Path("speed"), false),
        ]));
        Parse("name!~=\"^a;b\"").Should().Be(new QComparison(Path("name"), QOp.NotMatches, new QPattern("^a;b")));
    }

    [Theory]
    [InlineData("a==-2.5", -2.5)]
    [InlineData("a==1e3", 1000.0)]
    [InlineData("a==42", 42.0)]
    public void Q_numbers_parse(string q, double expected)
    {
        Parse(q).As<QComparison>().Value.Should().Be(new QNumber(expected));
    }

    [Fact]
    public void Q_quoted_string_with_escapes_parses()
    {
        Parse("name==\"a \\\"b\\\" ;|),\"").As<QComparison>().Value.Should().Be(Str("a \"b\" ;|),"));
    }

    [Fact]
    public void Q_booleans_parse()
    {
        Parse("on==true").As<QComparison>().Value.Should().Be(new QBoolean(true));
        Parse("on==false").As<QComparison>().Value.Should().Be(new QBoolean(false));
    }

    [Fact]
    public void Q_date_time_date_and_time_literals_parse()
    {
        Parse("t>2024-05-01T12:00:00.5+02:00").As<QComparison>().Value
            .Should().Be(new QDateTime(new DateTimeOffset(2024, 5, 1, 10, 0, 0, 500, TimeSpan.Zero)));
        Parse("t>2024-05-01").As<QComparison>().Value.Should().Be(new QDate(new DateOnly(2024, 5, 1)));
        Parse("t>12:30:15Z").As<QComparison>().Value.Should().Be(new QTime(new TimeOnly(12, 30, 15)));
    }

    [Fact]
    public void Q_uri_literal_parses_and_is_expanded_for_vocab()
    {
        Parse("refPark==urn:ngsi-ld:Park:1").As<QComparison>().Value
            .Should().Be(new QUri("urn:ngsi-ld:Park:1", "urn:ngsi-ld:Park:1"));
    }

    [Fact]
    public void Q_bare_word_is_a_string_expanded_as_vocab_term()
    {
        Parse("category==fish").As<QComparison>().Value.Should().Be(new QString("fish", Default + "fish"));
    }

    [Fact]
    public void Q_range_parses()
    {
        Parse("speed==1..5").As<QComparison>().Value.Should().Be(new QRange(new QNumber(1), new QNumber(5)));
        Parse("t==2024-01-01T00:00:00Z..2024-01-02T00:00:00.250Z").As<QComparison>().Value.Should().BeOfType<QRange>();
    }

    [Fact]
    public void Q_value_list_parses()
    {
        Parse("color==\"red\",\"blue\",3").As<QComparison>().Value
            .Should().Be(new QValueList([Str("red"), Str("blue"), new QNumber(3)]));
    }

    [Fact]
    public void Q_and_binds_tighter_than_or()
    {
        Parse("a|b;c").Should().Be(new QOr([
            new QExists(Path("a"), false),
            new QAnd([new QExists(Path("b"), false), new QExists(Path("c"), false)]),
        ]));
    }

    [Fact]
    public void Q_parentheses_override_precedence_and_same_operators_flatten()
    {
        Parse("(a|b);c").Should().Be(new QAnd([
            new QOr([new QExists(Path("a"), false), new QExists(Path("b"), false)]),
            new QExists(Path("c"), false),
        ]));
        Parse("(a;b);(c;d)").Should().Be(Parse("a;b;c;d"));
    }

    [Fact]
    public void Q_tolerates_whitespace_between_tokens()
    {
        Parse(" ( speed == 5 ) ; name ").Should().Be(Parse("speed==5;name"));
    }

    [Fact]
    public void Q_sub_attribute_path_is_expanded()
    {
        Parse("speed.accuracy>1").As<QComparison>().Path
            .Should().Be(new QPath(Default + "speed", [Default + "accuracy"], []));
    }

    [Theory]
    [InlineData("observedAt")]
    [InlineData("unitCode")]
    [InlineData("datasetId")]
    [InlineData("createdAt")]
    [InlineData("modifiedAt")]
    public void Q_trailing_meta_member_is_kept_verbatim(string member)
    {
        Parse($"speed.{member}").As<QExists>().Path.Should().Be(new QPath(Default + "speed", [member], []));
    }

    [Fact]
    public void Q_compound_path_in_both_spellings()
    {
        var expected = new QPath(Default + "address", [], ["street", "number"]);
        Parse("address[street.number]==3").As<QComparison>().Path.Should().Be(expected);
        Parse("address[street][number]==3").As<QComparison>().Path.Should().Be(expected);
        Parse("address.verified[level]").As<QExists>().Path.Should().Be(new QPath(Default + "address", [Default + "verified"], ["level"]));
    }

    [Fact]
    public void Q_attribute_names_are_expanded_with_the_context()
    {
        Parse("location").As<QExists>().Path.Attribute.Should().Be("https://uri.etsi.org/ngsi-ld/location");
    }

    [Fact]
    public void Q_with_unbalanced_parenthesis_is_bad_request_with_position()
    {
        ShouldFail("(speed==5", "'(' at position 0 is never closed");
        ShouldFail("speed==5)", "unexpected ')' at position 8");
    }

    [Fact]
    public void Q_empty_is_bad_request() => ShouldFail("  ", "empty");

    [Fact]
    public void Q_missing_operand_is_bad_request_with_position()
    {
        ShouldFail("a;", "expected an attribute name but the query ends at position 2");
        ShouldFail("a;|b", "expected an attribute name at position 2");
    }

    [Fact]
    public void Q_single_equals_is_bad_request_with_position() => ShouldFail("speed=5", "expected an operator * at position 5");

    [Fact]
    public void Q_missing_value_is_bad_request_with_position() => ShouldFail("speed==;a", "expected a value at position 7");

    [Fact]
    public void Q_unterminated_string_is_bad_request_with_position() => ShouldFail("a==\"abc", "unterminated string starting at position 3");

    [Fact]
    public void Q_negated_comparison_is_bad_request_with_position() => ShouldFail("!a==1", "at position 2");

    [Fact]
    public void Q_range_or_list_with_ordering_operator_is_bad_request()
    {
        ShouldFail("a>1..3", "range can only follow == or !=, at position 2");
        ShouldFail("a<1,3", "list of values can only follow == or !=, at position 2");
        ShouldFail("a>true", "boolean cannot be ordered, at position 2");
    }

    [Fact]
    public void Q_range_of_mixed_kinds_is_bad_request() => ShouldFail("a==1..\"b\"", "different kinds");

    [Fact]
    public void Q_range_of_booleans_is_bad_request() => ShouldFail("a==true..false", "range needs numbers");

    [Fact]
    public void Q_invalid_regex_is_bad_request_with_position() => ShouldFail("name~=a(b", "invalid regular expression at position 6");

    [Fact]
    public void Q_empty_regex_is_bad_request() => ShouldFail("name~=;a", "expected a regular expression at position 6");

    [Fact]
    public void Q_invalid_date_time_is_bad_request_with_position() => ShouldFail("t>2024-13-45T99:00:00Z", "invalid date-time * at position 2");

    [Fact]
    public void Q_invalid_date_is_bad_request_with_position() => ShouldFail("t>2024-02-31", "invalid date * at position 2");

    [Fact]
    public void Q_invalid_time_is_bad_request_with_position() => ShouldFail("t>25:61", "invalid time * at position 2");

    [Fact]
    public void Q_member_after_meta_member_is_bad_request() => ShouldFail("a.observedAt.x", "at position 13");

    [Fact]
    public void Q_unclosed_compound_bracket_is_bad_request() => ShouldFail("a[b==1", "expected ']' at position 3");

    [Fact]
    public void Q_trailing_garbage_after_value_is_bad_request() => ShouldFail("a==1 2", "unexpected '2' at position 5");

    [Fact]
    public void Q_too_deep_nesting_is_bad_request()
    {
        ShouldFail(new string('(', 40) + "a" + new string(')', 40), "nested more than");
    }

    [Fact]
    public void Q_renders_back_to_equivalent_text()
    {
        var q = Parse("(a==1|b!=\"x\");c.observedAt>2024-01-01T00:00:00Z;!d;e[f]~=\"^a\\\\d\"");
        QRenderer.Render(q, Core).Should().Be("(a==1|b!=\"x\");c.observedAt>2024-01-01T00:00:00.000Z;!d;e[f]~=\"^a\\\\d\"");
        Parse(QRenderer.Render(q, Core)).Should().Be(q);
    }
}
