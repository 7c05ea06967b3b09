using System.Globalization;
using System.Text.RegularExpressions;

namespace Kontext.Adapters;

/// <summary>A field an expression needs is not in the payload (nor a parameter or envelope variable).</summary>
public sealed class PayloadFieldMissingException(string field) : Exception($"'{field}' is not in the payload")
{
    public string Field { get; } = field;
}

/// <summary>An expression that does not parse or cannot be computed (a mapping fault).</summary>
public sealed class MappingException(string message) : Exception(message);

/// <summary>
/// The arithmetic of mapping files: numbers, 'strings', true/false/null, dotted field paths (distance.value,
/// decoded fields first, then parameters, then envelope variables), + - * / %, comparisons, &amp;&amp; || !, c ? a : b, and
/// the functions num(x) (a number from "2799 mm"), round(x[, digits]), min, max, clamp(x, lo, hi), abs, has('path'), str(x).
/// Parsed once per mapping file; evaluation never throws for a well-formed expression except PayloadFieldMissingException.
/// </summary>
public sealed partial class MappingExpression
{
    private readonly Node _root;

    private MappingExpression(string text, Node root)
    {
        Text = text;
        _root = root;
    }

    public string Text { get; }

    public static MappingExpression Parse(string text)
    {
        var parser = new Parser(Tokenize(text), text);
        var root = parser.ParseExpression(0);
        parser.ExpectEnd();
        return new MappingExpression(text, root);
    }

    /// <summary>Evaluates with <paramref name="lookup"/> resolving field paths (null: not found).</summary>
    public object? Evaluate(Func<string, (bool Found, object? Value)> lookup) => _root.Eval(lookup);

    // ---- values ----
    private static double Num(object? v, string what) => v switch
    {
        double d => d,
        bool b => b ? 1 : 0,
        string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        _ => throw new MappingException($"{what}: '{v ?? "null"}' is not a number"),
    };

    private static bool Truthy(object? v) => v switch { null => false, bool b => b, double d => d != 0, string s => s.Length > 0, _ => true };

    private static string Str(object? v) => v switch
    {
        null => "",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        _ => v.ToString() ?? "",
    };

    [GeneratedRegex(@"^\s*([-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)")]
    private static partial Regex LeadingNumber();

    // ---- syntax tree ----
    private abstract record Node
    {
        public abstract object? Eval(Func<string, (bool, object?)> lookup);
    }

    private sealed record Literal(object? Value) : Node
    {
        public override object? Eval(Func<string, (bool, object?)> lookup) => Value;
    }

    private sealed record Field(string Path) : Node
    {
        public override object? Eval(Func<string, (bool, object?)> lookup)
        {
            var (found, value) = lookup(Path);
            return found ? value : throw new PayloadFieldMissingException(Path);
        }
    }

    private sealed record Unary(string Op, Node Operand) : Node
    {
        public override object? Eval(Func<string, (bool, object?)> lookup)
        {
            var v = Operand.Eval(lookup);
            return Op == "!" ? !Truthy(v) : -Num(v, "-");
        }
    }

    private sealed record Binary(string Op, Node Left, Node Right) : Node
    {
        public override object? Eval(Func<string, (bool, object?)> lookup)
        {
            if (Op == "&&") return Truthy(Left.Eval(lookup)) && Truthy(Right.Eval(lookup));
            if (Op == "||") return Truthy(Left.Eval(lookup)) || Truthy(Right.Eval(lookup));
            var l = Left.Eval(lookup);
            var r = Right.Eval(lookup);
            switch (Op)
            {
                case "==": return Equal(l, r);
                case "!=": return !Equal(l, r);
                case "+" when l is string || r is string: return Str(l) + Str(r);
            }
            var a = Num(l, Op);
            var b = Num(r, Op);
            return Op switch
            {
                "+" => a + b,
                "-" => a - b,
                "*" => a * b,
                "/" => b == 0 ? throw new MappingException("division by zero") : a / b,
                "%" => b == 0 ? throw new MappingException("division by zero") : a % b,
                "<" => a < b,
                "<=" => a <= b,
                ">" => a > b,
                ">=" => a >= b,
                _ => throw new MappingException($"unknown operator {Op}"),
            };
        }

        private static bool Equal(object? l, object? r) =>
            l is double or bool && r is double or bool ? Num(l, "==") == Num(r, "==") : Equals(l, r) || Str(l) == Str(r) && l is not null && r is not null;
    }

    private sealed record Conditional(Node Test, Node Then, Node Else) : Node
    {
        public override object? Eval(Func<string, (bool, object?)> lookup) => Truthy(Test.Eval(lookup)) ? Then.Eval(lookup) : Else.Eval(lookup);
    }

    private sealed record Call(string Name, IReadOnlyList<Node> Args) : Node
    {
        public override object? Eval(Func<string, (bool, object?)> lookup)
        {
            if (Name == "has")
            {
                var path = Args.Count == 1 && Args[0] is Literal { Value: string p } ? p : throw new MappingException("has() takes one 'path'");
                return lookup(path).Item1;
            }
            var values = Args.Select(a => a.Eval(lookup)).ToArray();
            return Name switch
            {
                "num" => values[0] is string s
                    ? LeadingNumber().Match(s) is { Success: true } m ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : throw new MappingException($"num: '{s}' has no number")
                    : Num(values[0], "num"),
                "round" => Math.Round(Num(values[0], "round"), values.Length > 1 ? (int)Num(values[1], "round") : 0, MidpointRounding.AwayFromZero),
                "min" => values.Select(v => Num(v, "min")).Min(),
                "max" => values.Select(v => Num(v, "max")).Max(),
                "clamp" => Math.Clamp(Num(values[0], "clamp"), Num(values[1], "clamp"), Num(values[2], "clamp")),
                "abs" => Math.Abs(Num(values[0], "abs")),
                "str" => Str(values[0]),
                _ => throw new MappingException($"unknown function {Name}"),
            };
        }
    }

    private static readonly Dictionary<string, int> Arity = new()
    {
        ["num"] = 1, ["round"] = -1, ["min"] = -1, ["max"] = -1, ["clamp"] = 3, ["abs"] = 1, ["has"] = 1, ["str"] = 1,
    };

    // ---- lexer and Pratt parser ----
    private readonly record struct Token(char Kind, string Text, int Position); // n number, s string, i identifier, o operator, e end

    private static List<Token> Tokenize(string text)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c)) { i++; continue; }
            var start = i;
            if (char.IsDigit(c) || c == '.' && i + 1 < text.Length && char.IsDigit(text[i + 1]))
            {
                while (i < text.Length && (char.IsDigit(text[i]) || text[i] == '.')) i++;
                if (i < text.Length && text[i] is 'e' or 'E')
                {
                    i++;
                    if (i < text.Length && text[i] is '+' or '-') i++;
                    while (i < text.Length && char.IsDigit(text[i])) i++;
                }
                tokens.Add(new('n', text[start..i], start));
            }
            else if (c is '\'' or '"')
            {
                i++;
                while (i < text.Length && text[i] != c) i++;
                if (i >= text.Length) throw new MappingException($"unterminated string in '{text}'");
                tokens.Add(new('s', text[(start + 1)..i], start));
                i++;
            }
            else if (char.IsLetter(c) || c is '_' or '$')
            {
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] is '_' or '.' or '$')) i++;
                tokens.Add(new('i', text[start..i], start));
            }
            else
            {
                var two = i + 1 < text.Length ? text.Substring(i, 2) : "";
                if (two is "==" or "!=" or "<=" or ">=" or "&&" or "||") { tokens.Add(new('o', two, i)); i += 2; }
                else if ("+-*/%<>!?:(),".Contains(c)) { tokens.Add(new('o', c.ToString(), i)); i++; }
                else throw new MappingException($"unexpected '{c}' at {i} in '{text}'");
            }
        }
        tokens.Add(new('e', "", text.Length));
        return tokens;
    }

    private sealed class Parser(List<Token> tokens, string text)
    {
        private int _pos;
        private Token Peek => tokens[_pos];

        private static int Precedence(string op) => op switch
        {
            "?" => 1, "||" => 2, "&&" => 3, "==" or "!=" => 4, "<" or "<=" or ">" or ">=" => 5, "+" or "-" => 6, "*" or "/" or "%" => 7, _ => 0,
        };

        public void ExpectEnd()
        {
            if (Peek.Kind != 'e') throw new MappingException($"unexpected '{Peek.Text}' at {Peek.Position} in '{text}'");
        }

        private void Expect(string op)
        {
            if (Peek.Kind != 'o' || Peek.Text != op) throw new MappingException($"expected '{op}' at {Peek.Position} in '{text}'");
            _pos++;
        }

        public Node ParseExpression(int minPrecedence)
        {
            var left = ParsePrimary();
            while (Peek.Kind == 'o' && Precedence(Peek.Text) is var p && p > minPrecedence)
            {
                var op = tokens[_pos++].Text;
                if (op == "?")
                {
                    var then = ParseExpression(0);
                    Expect(":");
                    var otherwise = ParseExpression(0);
                    left = new Conditional(left, then, otherwise);
                    continue;
                }
                left = new Binary(op, left, ParseExpression(p));
            }
            return left;
        }

        private Node ParsePrimary()
        {
            var token = tokens[_pos++];
            switch (token.Kind)
            {
                case 'n': return new Literal(double.Parse(token.Text, CultureInfo.InvariantCulture));
                case 's': return new Literal(token.Text);
                case 'i':
                    switch (token.Text)
                    {
                        case "true": return new Literal(true);
                        case "false": return new Literal(false);
                        case "null": return new Literal(null);
                    }
                    if (Peek.Kind == 'o' && Peek.Text == "(")
                    {
                        _pos++;
                        if (!Arity.TryGetValue(token.Text, out var arity)) throw new MappingException($"unknown function '{token.Text}' in '{text}'");
                        var args = new List<Node>();
                        if (!(Peek.Kind == 'o' && Peek.Text == ")"))
                        {
                            do args.Add(ParseExpression(0));
                            while (Peek.Kind == 'o' && Peek.Text == "," && _pos++ >= 0);
                        }
                        Expect(")");
                        if (arity >= 0 && args.Count != arity || args.Count == 0)
                            throw new MappingException($"{token.Text}() takes {(arity >= 0 ? arity : "1 or more")} arguments in '{text}'");
                        return new Call(token.Text, args);
                    }
                    return new Field(token.Text);
                case 'o' when token.Text is "-" or "!":
                    return new Unary(token.Text, ParseExpression(7));
                case 'o' when token.Text == "(":
                    var inner = ParseExpression(0);
                    Expect(")");
                    return inner;
                default:
                    throw new MappingException($"unexpected '{token.Text}' at {token.Position} in '{text}'");
            }
        }
    }
}
