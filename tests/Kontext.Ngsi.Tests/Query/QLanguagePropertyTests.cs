using CsCheck;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Query;

namespace Kontext.Ngsi.Tests.Query;

/// <summary>Property-based checks over random q-language trees.</summary>
public class QLanguagePropertyTests
{
    private const string Default = "https://uri.etsi.org/ngsi-ld/default-context/";
    private static readonly JsonLdContext Core = ContextProcessor.Core;

    private static readonly Gen<QPath> PathGen =
        from attribute in Gen.OneOf(Gen.Const("speed"), Gen.Const("name"), Gen.Const("temperature"), Gen.Const("address"), Gen.Const("owner"))
        from member in Gen.OneOf(Gen.Const(""), Gen.Const("accuracy"), Gen.Const("observedAt"), Gen.Const("unitCode"))
        from compound in Gen.OneOf(Gen.Const("street"), Gen.Const("number"), Gen.Const("x_y")).Array[0, 2]
        select new QPath(Default + attribute,
            member == "" ? [] : new EquatableArray<string>([QPath.MetaMembers.Contains(member) ? member : Default + member]),
            new EquatableArray<string>(compound));

    private static readonly Gen<QLiteral> LiteralGen = Gen.OneOf<QLiteral>(
        Gen.Int[-100_000, 100_000].Select(i => (QLiteral)new QNumber(i / 4.0)),
        Gen.Char["ab Z\"\\;|),.(-1:"].Array[0, 8].Select(chars => (QLiteral)Str(new string(chars))),
        Gen.Bool.Select(b => (QLiteral)new QBoolean(b)),
        Gen.Long[0, 4_102_444_800_000].Select(ms => (QLiteral)new QDateTime(DateTimeOffset.FromUnixTimeMilliseconds(ms))),
        Gen.Int[700_000, 750_000].Select(day => (QLiteral)new QDate(DateOnly.FromDayNumber(day))),
        Gen.Int[0, 86_399_999].Select(ms => (QLiteral)new QTime(new TimeOnly(ms * TimeSpan.TicksPerMillisecond))),
        Gen.Int[0, 999].Select(i => (QLiteral)new QUri($"urn:ngsi-ld:Thing:{i}", $"urn:ngsi-ld:Thing:{i}")));

    private static readonly Gen<QExpr> ComparisonGen =
        from path in PathGen
        from op in Gen.Enum<QOp>()
        from literal in LiteralGen.Where(l => l is not QBoolean)
        from list in LiteralGen.Array[2, 3]
        from low in Gen.Int[-50, 50]
        from pattern in Gen.OneOf(Gen.Const("^a\\d+"), Gen.Const("(?i)x(y|z);w"), Gen.Const("\"q\""), Gen.Const("a|b"))
        from shape in Gen.Int[0, 2]
        select (QExpr)new QComparison(path, op, op switch
        {
            QOp.Matches or QOp.NotMatches => new QPattern(pattern),
            QOp.Equal or QOp.NotEqual when shape == 1 => new QValueList(new(list)),
            QOp.Equal or QOp.NotEqual when shape == 2 => new QRange(new QNumber(low), new QNumber(low + 10)),
            _ => literal,
        });

    private static readonly Gen<QExpr> ExprGen = Gen.Recursive<QExpr>((depth, self) =>
    {
        var leaf = Gen.Frequency(
            (3, ComparisonGen),
            (1, PathGen.Select(Gen.Bool, (p, negated) => (QExpr)new QExists(p, negated))));
        if (depth >= 3) return leaf;
        return Gen.Frequency(
            (2, leaf),
            (1, self.Array[2, 3].Select(a => (QExpr)new QAnd(new(a)))),
            (1, self.Array[2, 3].Select(a => (QExpr)new QOr(new(a)))));
    });

    private static QString Str(string s) => new(s, Core.ExpandTerm(s));

    // The parser keeps AND/OR trees flat; a generated tree may nest an AND directly in an AND.
    private static QExpr Flatten(QExpr expr) => expr switch
    {
        QAnd and => new QAnd(new(and.Operands.Select(Flatten).SelectMany(o => o is QAnd inner ? inner.Operands : [o]))),
        QOr or => new QOr(new(or.Operands.Select(Flatten).SelectMany(o => o is QOr inner ? inner.Operands : [o]))),
        _ => expr,
    };

    [Fact]
    public void Parsing_a_rendered_query_gives_the_same_tree()
    {
        ExprGen.Sample(q =>
        {
            var text = QRenderer.Render(q, Core);
            QLanguage.Parse(text, Core).Should().Be(Flatten(q), because: $"'{text}' should parse back");
        }, iter: 2_000, print: q => QRenderer.Render(q, Core));
    }

    [Fact]
    public void Evaluating_follows_boolean_algebra_on_a_real_entity()
    {
        // a;(b|c) ≡ (a;b)|(a;c) and !x ≡ not x, on random subtrees: the evaluator agrees with plain boolean logic.
        var car = QEvaluatorTests.Car;
        Gen.Select(ExprGen, ExprGen, ExprGen).Sample((a, b, c) =>
        {
            var left = QEvaluator.Evaluate(new QAnd([a, new QOr([b, c])]), car);
            var right = QEvaluator.Evaluate(new QOr([new QAnd([a, b]), new QAnd([a, c])]), car);
            left.Should().Be(right);
            left.Should().Be(QEvaluator.Evaluate(a, car) && (QEvaluator.Evaluate(b, car) || QEvaluator.Evaluate(c, car)));
        }, iter: 500);
    }
}
