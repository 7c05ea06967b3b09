using Kontext.Adapters;

namespace Kontext.Adapters.Tests;

public sealed class MappingExpressionTests
{
    private static object? Eval(string text, params (string, object?)[] fields)
    {
        var map = fields.ToDictionary(f => f.Item1, f => f.Item2);
        return MappingExpression.Parse(text).Evaluate(p => map.TryGetValue(p, out var v) ? (true, v) : (false, null));
    }

    [Fact]
    public void Arithmetic_precedence_and_fields()
    {
        Eval("distance.value / 1000", ("distance.value", 1234.0)).Should().Be(1.234);
        Eval("round(h - d / 1000, 3)", ("h", 3.0), ("d", 1234.0)).Should().Be(1.766);
        Eval("-2 + 3 * 4").Should().Be(10.0);
        Eval("(1 + 2) * 3").Should().Be(9.0);
    }

    [Fact]
    public void Strings_with_units_conditionals_and_functions()
    {
        Eval("num(Distance) / 1000", ("Distance", "2799 mm")).Should().Be(2.799);
        Eval("occupied ? 'occupied' : 'free'", ("occupied", false)).Should().Be("free");
        Eval("clamp(1 - d / 1000 / 1.2, 0, 1)", ("d", 2116.0)).Should().Be(0.0);
        Eval("has('x') && x > 1", ("x", 2.0)).Should().Be(true);
        Eval("has('x')").Should().Be(false);
    }

    [Fact]
    public void Missing_fields_and_bad_syntax()
    {
        var missing = () => Eval("a + 1");
        missing.Should().Throw<PayloadFieldMissingException>().Which.Field.Should().Be("a");
        var bad = () => MappingExpression.Parse("1 +");
        bad.Should().Throw<MappingException>();
        var unknown = () => MappingExpression.Parse("sqrt(2)");
        unknown.Should().Throw<MappingException>();
    }
}
