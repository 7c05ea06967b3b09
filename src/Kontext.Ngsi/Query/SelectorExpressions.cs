using Kontext.Ngsi.Errors;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;

namespace Kontext.Ngsi.Query;

// The entity type selector (clause 4.17) and the scope query (clause 4.19) share one small boolean syntax:
// names combined with ';' (AND), ',' or '|' (OR, lower precedence) and parentheses.

/// <summary>An entity type selector: <c>A,B</c> / <c>A|B</c> any of, <c>A;B</c> all of, parentheses.</summary>
public abstract record TypeExpr;

/// <summary>The entity has this type (expanded IRI).</summary>
public sealed record TypeIs(string Iri) : TypeExpr;

public sealed record TypeAnd(EquatableArray<TypeExpr> Operands) : TypeExpr;

public sealed record TypeOr(EquatableArray<TypeExpr> Operands) : TypeExpr;

/// <summary>A scope query.</summary>
public abstract record ScopeExpr;

/// <summary>
/// <c>/a/b</c> matches exactly that scope; <c>/a/b/#</c> (<paramref name="IncludeDescendants"/>) matches it and
/// every scope below it; <c>/#</c> is <c>Scope = ""</c> with descendants, so any scope at all. A <c>+</c> level
/// (<c>/a/+/c</c>) matches any one level (clause 4.19).
/// </summary>
public sealed record ScopeIs(string Scope, bool IncludeDescendants) : ScopeExpr
{
    public const string AnyLevel = "+";

    /// <summary>True when some level is <c>+</c>.</summary>
    public bool HasWildcard => Scope.Split('/').Contains(AnyLevel);

    /// <summary>The levels before the first <c>+</c>, as a scope ("" when the first level is one).</summary>
    public string FixedPrefix
    {
        get
        {
            var levels = Scope.Split('/');
            var first = Array.IndexOf(levels, AnyLevel);
            return first < 0 ? Scope : string.Join('/', levels[..first]);
        }
    }

    public bool Matches(string scope)
    {
        if (!HasWildcard) return scope == Scope || (IncludeDescendants && scope.StartsWith(Scope + "/", StringComparison.Ordinal));
        var pattern = Scope.Split('/');
        var levels = scope.Split('/');
        if (levels.Length < pattern.Length || (!IncludeDescendants && levels.Length != pattern.Length)) return false;
        for (var i = 0; i < pattern.Length; i++)
            if (pattern[i] != AnyLevel && pattern[i] != levels[i]) return false;
        return true;
    }
}

public sealed record ScopeAnd(EquatableArray<ScopeExpr> Operands) : ScopeExpr;

public sealed record ScopeOr(EquatableArray<ScopeExpr> Operands) : ScopeExpr;

public static class SelectorExpressions
{
    public static TypeExpr ParseType(string text, JsonLdContext context) =>
        new BooleanParser<TypeExpr>("type", text,
            (name, at) =>
            {
                try { Validate.Name(name, "entity type"); }
                catch (NgsiException e) { throw NgsiException.BadRequestData($"type: {e.Message} at position {at}"); }
                return new TypeIs(context.ExpandTerm(name));
            },
            operands => new TypeAnd(new(operands)), operands => new TypeOr(new(operands)),
            t => (t as TypeAnd)?.Operands, t => (t as TypeOr)?.Operands).Parse();

    public static ScopeExpr ParseScope(string text) =>
        new BooleanParser<ScopeExpr>("scopeQ", text, ParseScopeLeaf,
            operands => new ScopeAnd(new(operands)), operands => new ScopeOr(new(operands)),
            s => (s as ScopeAnd)?.Operands, s => (s as ScopeOr)?.Operands).Parse();

    private static ScopeExpr ParseScopeLeaf(string token, int at)
    {
        if (token == "/#") return new ScopeIs("", IncludeDescendants: true);
        var descendants = token.EndsWith("/#", StringComparison.Ordinal);
        var scope = descendants ? token[..^2] : token;
        // "+" stands for one level: check the scope with an ordinary level in its place.
        var concrete = string.Join('/', scope.Split('/').Select(level => level == ScopeIs.AnyLevel ? "x" : level));
        try { Validate.Scope(concrete); }
        catch (NgsiException) { throw NgsiException.BadRequestData($"scopeQ: invalid scope '{token}' at position {at}"); }
        return new ScopeIs(scope, descendants);
    }

    public static bool Matches(TypeExpr expr, IReadOnlyCollection<string> types) => expr switch
    {
        TypeIs t => types.Contains(t.Iri),
        TypeAnd and => and.Operands.All(o => Matches(o, types)),
        TypeOr or => or.Operands.Any(o => Matches(o, types)),
        _ => throw new ArgumentOutOfRangeException(nameof(expr)),
    };

    /// <summary>An entity without scopes matches no scope query.</summary>
    public static bool Matches(ScopeExpr expr, IReadOnlyCollection<string>? scopes) => expr switch
    {
        ScopeIs s => scopes is not null && scopes.Any(s.Matches),
        ScopeAnd and => and.Operands.All(o => Matches(o, scopes)),
        ScopeOr or => or.Operands.Any(o => Matches(o, scopes)),
        _ => throw new ArgumentOutOfRangeException(nameof(expr)),
    };

    /// <summary>Names joined by ';' (binds tighter) and ',' or '|', with parentheses; equal operators flatten.</summary>
    private sealed class BooleanParser<T>(string what, string text, Func<string, int, T> leaf,
        Func<List<T>, T> and, Func<List<T>, T> or, Func<T, IEnumerable<T>?> andOperands, Func<T, IEnumerable<T>?> orOperands)
    {
        private int _pos;
        private int _depth;

        public T Parse()
        {
            SkipSpace();
            if (_pos == text.Length) throw Error("the expression is empty");
            var result = ParseOr();
            if (_pos < text.Length) throw Error($"unexpected '{text[_pos]}' at position {_pos}");
            return result;
        }

        private T ParseOr() => ParseList(ParseAnd, c => c is ',' or '|', or, orOperands);

        private T ParseAnd() => ParseList(ParseFactor, c => c == ';', and, andOperands);

        private T ParseList(Func<T> operand, Func<char, bool> isSeparator, Func<List<T>, T> combine, Func<T, IEnumerable<T>?> sameKindOperands)
        {
            var operands = new List<T>();
            while (true)
            {
                var item = operand();
                // Flatten a nested operator of the same kind, e.g. (A;B);C is A;B;C.
                if (sameKindOperands(item) is { } nested) operands.AddRange(nested);
                else operands.Add(item);
                SkipSpace();
                if (_pos < text.Length && isSeparator(text[_pos])) { _pos++; continue; }
                return operands.Count == 1 ? operands[0] : combine(operands);
            }
        }

        private T ParseFactor()
        {
            SkipSpace();
            if (_pos < text.Length && text[_pos] == '(')
            {
                var open = _pos++;
                if (++_depth > 32) throw Error($"parentheses are nested too deeply at position {open}");
                var inner = ParseOr();
                SkipSpace();
                if (_pos == text.Length) throw Error($"unbalanced parenthesis: '(' at position {open} is never closed");
                if (text[_pos] != ')') throw Error($"unexpected '{text[_pos]}' at position {_pos}");
                _pos++;
                _depth--;
                return inner;
            }
            var start = _pos;
            while (_pos < text.Length && text[_pos] is not (',' or '|' or ';' or '(' or ')') && !char.IsWhiteSpace(text[_pos])) _pos++;
            if (_pos == start)
                throw Error(_pos == text.Length ? $"expected a name but the expression ends at position {_pos}" : $"expected a name at position {_pos}, found '{text[_pos]}'");
            return leaf(text[start.._pos], start);
        }

        private void SkipSpace()
        {
            while (_pos < text.Length && char.IsWhiteSpace(text[_pos])) _pos++;
        }

        private NgsiException Error(string message) => NgsiException.BadRequestData($"{what}: {message}");
    }
}
