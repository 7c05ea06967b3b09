using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;

namespace Kontext.Ngsi.Query;

/// <summary>
/// Recursive-descent parser for the NGSI-LD q-language (clause 4.9). Grammar, lowest precedence first:
/// <code>
/// query      = and *("|" and)
/// and        = factor *(";" factor)
/// factor     = "(" query ")" / term
/// term       = ["!"] path / path op value
/// path       = name ( "{" [types ":"] path "}" / *("." name) *("[" name *("." name) "]") )
/// types      = name *("," name)                     ; entity types of a linked-entity path, e.g. rel{Building:name}
/// op         = "==" / "!=" / "&gt;=" / "&gt;" / "&lt;=" / "&lt;" / "~=" / "!~="
/// value      = literal ".." literal / literal *("," literal) / regex (after ~= and !~=)
/// </code>
/// Whitespace between tokens is tolerated. Errors name the 0-based character position. Values compared with a
/// VocabProperty are expanded as terms only for the attributes listed in expandValues (clause 4.9); without such a list
/// (subscriptions) every value is expanded.
/// </summary>
public static partial class QLanguage
{
    private const int MaxDepth = 32;

    public static QExpr Parse(string text, JsonLdContext context) => new Parser(text, context, expandValues: null).ParseQuery();

    /// <summary>Parses with an expandValues list: the expanded names of the attributes whose query values are expanded as terms.</summary>
    public static QExpr Parse(string text, JsonLdContext context, IReadOnlySet<string>? expandValues) => new Parser(text, context, expandValues).ParseQuery();

    // Characters that end a name (attribute or member): operators, structure, quoting.
    private static bool IsNameChar(char c) =>
        !char.IsWhiteSpace(c) && c is not ('.' or '[' or ']' or '{' or '}' or '=' or '!' or '<' or '>' or '~' or ';' or '|' or '(' or ')' or ',' or '"' or '\'');

    [GeneratedRegex(@"^-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex NumberPattern();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T", RegexOptions.CultureInvariant)]
    private static partial Regex DateTimeStart();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}$", RegexOptions.CultureInvariant)]
    private static partial Regex DatePattern();

    [GeneratedRegex(@"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z?$", RegexOptions.CultureInvariant)]
    private static partial Regex TimePattern();

    private sealed class Parser(string text, JsonLdContext context, IReadOnlySet<string>? expandValues)
    {
        private int _pos;
        private int _depth;

        public QExpr ParseQuery()
        {
            SkipSpace();
            if (_pos == text.Length) throw Error("the query is empty");
            var expr = ParseOr();
            SkipSpace();
            if (_pos < text.Length) throw Unexpected();
            return expr;
        }

        private QExpr ParseOr()
        {
            var operands = new List<QExpr>();
            do Flatten(ParseAnd(), operands, isAnd: false);
            while (Accept('|'));
            return operands.Count == 1 ? operands[0] : new QOr(new(operands));
        }

        private QExpr ParseAnd()
        {
            var operands = new List<QExpr>();
            do Flatten(ParseFactor(), operands, isAnd: true);
            while (Accept(';'));
            return operands.Count == 1 ? operands[0] : new QAnd(new(operands));
        }

        // (a;b);c is a;b;c: keeping the tree flat gives one canonical form for equal queries.
        private static void Flatten(QExpr expr, List<QExpr> into, bool isAnd)
        {
            if (isAnd && expr is QAnd and) into.AddRange(and.Operands);
            else if (!isAnd && expr is QOr or) into.AddRange(or.Operands);
            else into.Add(expr);
        }

        private QExpr ParseFactor()
        {
            SkipSpace();
            if (!Accept('(')) return ParseTerm();
            if (++_depth > MaxDepth) throw Error($"parentheses are nested more than {MaxDepth} deep at position {_pos - 1}");
            var open = _pos - 1;
            var inner = ParseOr();
            SkipSpace();
            if (_pos == text.Length) throw Error($"unbalanced parenthesis: '(' at position {open} is never closed");
            if (!Accept(')')) throw Unexpected();
            _depth--;
            return inner;
        }

        private QExpr ParseTerm()
        {
            SkipSpace();
            var negated = Accept('!');
            var path = ParsePath();
            SkipSpace();
            if (AtTermEnd()) return new QExists(path, negated);
            var opStart = _pos;
            var op = ParseOperator();
            if (negated) throw Error($"'!' (non-existence) cannot be combined with a comparison, at position {opStart}");
            return new QComparison(path, op, ParseValue(op, ExpandsValues(path)));
        }

        private bool AtTermEnd() => _pos == text.Length || text[_pos] is ';' or '|' or ')';

        // The attribute whose values a comparison meets: the innermost one of a linked path.
        private bool ExpandsValues(QPath path)
        {
            while (path.Linked is not null) path = path.Linked.Path;
            return expandValues is null || expandValues.Contains(path.Attribute);
        }

        private QPath ParsePath() => ParsePath(ParseName("an attribute name"));

        private QPath ParsePath(string name)
        {
            var attribute = context.ExpandTerm(name);
            if (Accept('{'))
            {
                var open = _pos - 1;
                if (++_depth > MaxDepth) throw Error($"linked paths are nested more than {MaxDepth} deep at position {open}");
                var linked = ParseLinked();
                if (!Accept('}')) throw Expected("'}'");
                _depth--;
                return new QPath(attribute, EquatableArray<string>.Empty, EquatableArray<string>.Empty, linked);
            }
            var members = new List<string>();
            var compound = new List<string>();
            while (Accept('.'))
            {
                var at = _pos;
                var member = ParseName("a sub-attribute name");
                if (members.Count > 0 && QPath.MetaMembers.Contains(members[^1]))
                    throw Error($"'{members[^1]}' has no members, but '{member}' follows it at position {at}");
                members.Add(QPath.MetaMembers.Contains(member) ? member : context.ExpandTerm(member));
            }
            while (Accept('['))
            {
                do compound.Add(ParseName("a member name"));
                while (Accept('.'));
                if (!Accept(']')) throw Expected("']'");
            }
            return new QPath(attribute, new(members), new(compound));
        }

        /// <summary>
        /// Inside "{…}": optional entity types before a ':' ("Building:name", "A,B:name"), then the path. "prefix:name" with a
        /// prefix the context defines, or an absolute IRI, is an attribute name, not a type.
        /// </summary>
        private QLinkedPath ParseLinked()
        {
            var types = new List<string>();
            var name = ParseName("an attribute name or entity type");
            while (true)
            {
                var colon = name.IndexOf(':');
                var typeList = types.Count > 0 || Peek(',');
                if (colon > 0 && (typeList || !IsIriOrCurie(name, colon)))
                {
                    types.Add(name[..colon]);
                    name = name[(colon + 1)..];
                    if (name.Length == 0) name = ParseName("an attribute name");
                    break;
                }
                if (!typeList) break;
                types.Add(name);
                if (!Accept(',')) throw Expected("':' after the entity types");
                name = ParseName("an entity type");
            }
            foreach (var type in types) Validate.Name(type, "entity type");
            return new QLinkedPath(new(types.Select(context.ExpandTerm)), ParsePath(name));
        }

        private bool IsIriOrCurie(string name, int colon) =>
            name.AsSpan(colon + 1).StartsWith("//") || context.Find(name[..colon]) is { CanBePrefix: true };

        private string ParseName(string what)
        {
            var start = _pos;
            while (_pos < text.Length && IsNameChar(text[_pos])) _pos++;
            if (_pos == start) throw Expected(what);
            return text[start.._pos];
        }

        private QOp ParseOperator()
        {
            var rest = text.AsSpan(_pos);
            (QOp op, int length) = rest switch
            {
                _ when rest.StartsWith("==") => (QOp.Equal, 2),
                _ when rest.StartsWith("!=") => (QOp.NotEqual, 2),
                _ when rest.StartsWith("!~=") => (QOp.NotMatches, 3),
                _ when rest.StartsWith("~=") => (QOp.Matches, 2),
                _ when rest.StartsWith(">=") => (QOp.GreaterOrEqual, 2),
                _ when rest.StartsWith("<=") => (QOp.LessOrEqual, 2),
                _ when rest.StartsWith(">") => (QOp.Greater, 1),
                _ when rest.StartsWith("<") => (QOp.Less, 1),
                _ => throw Expected("an operator (==, !=, >, >=, <, <=, ~=, !~=)"),
            };
            _pos += length;
            return op;
        }

        private QValue ParseValue(QOp op, bool expand)
        {
            SkipSpace();
            if (op is QOp.Matches or QOp.NotMatches) return ParsePattern();
            var start = _pos;
            var first = ParseLiteral(expand);
            QValue value = first;
            if (Accept(".."))
            {
                var high = ParseLiteral(expand);
                CheckRangeBound(first, start);
                CheckRangeBound(high, start);
                if (first.GetType() != high.GetType()) throw Error($"the ends of the range at position {start} are of different kinds");
                value = new QRange(first, high);
            }
            else if (Peek(','))
            {
                var items = new List<QLiteral> { first };
                while (Accept(',')) items.Add(ParseLiteral(expand));
                value = new QValueList(new(items));
            }
            var ordering = op is not (QOp.Equal or QOp.NotEqual);
            if (ordering && value is QRange) throw Error($"a range can only follow == or !=, at position {start}");
            if (ordering && value is QValueList) throw Error($"a list of values can only follow == or !=, at position {start}");
            if (ordering && value is QBoolean) throw Error($"a boolean cannot be ordered, at position {start}");
            SkipSpace();
            if (!AtTermEnd()) throw Unexpected();
            return value;
        }

        private void CheckRangeBound(QLiteral literal, int start)
        {
            if (literal is QBoolean or QUri) throw Error($"a range needs numbers, strings, dates or times, at position {start}");
        }

        private QLiteral ParseLiteral(bool expand)
        {
            SkipSpace();
            var start = _pos;
            if (Peek('"')) return String(ParseQuoted(), expand);
            while (_pos < text.Length && text[_pos] is not (';' or '|' or ')' or ',' or '"') && !char.IsWhiteSpace(text[_pos])
                   && !text.AsSpan(_pos).StartsWith("..")) _pos++;
            var token = text[start.._pos];
            if (token.Length == 0) throw Expected("a value");
            // Operator characters never start or sit inside a bare value: "a>>3" is a typo, not the string ">3".
            var stray = token.IndexOfAny(['<', '>', '=', '!', '~', '\'', '(', '[', ']']);
            if (stray >= 0) throw Error($"unexpected '{token[stray]}' at position {start + stray}");
            return Classify(token, start, expand);
        }

        private QLiteral Classify(string token, int start, bool expand)
        {
            if (token == "true") return new QBoolean(true);
            if (token == "false") return new QBoolean(false);
            if (NumberPattern().IsMatch(token))
            {
                var number = double.Parse(token, NumberStyles.Float, CultureInfo.InvariantCulture);
                if (!double.IsFinite(number)) throw Error($"the number at position {start} is out of range");
                return new QNumber(number);
            }
            if (DateTimeStart().IsMatch(token))
            {
                if (!Validate.TryParseDateTime(token, out var instant, allowOffset: true)) throw Error($"invalid date-time '{token}' at position {start}");
                return new QDateTime(instant);
            }
            if (DatePattern().IsMatch(token))
            {
                if (!DateOnly.TryParseExact(token, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
                    throw Error($"invalid date '{token}' at position {start}");
                return new QDate(date);
            }
            if (TimePattern().IsMatch(token))
            {
                if (!TimeOnly.TryParse(token.TrimEnd('Z'), CultureInfo.InvariantCulture, DateTimeStyles.None, out var time))
                    throw Error($"invalid time '{token}' at position {start}");
                return new QTime(time);
            }
            if (token.Contains(':') && Validate.IsUri(token)) return new QUri(token, expand ? context.ExpandTerm(token) : token);
            // A bare word: the spec wants strings quoted, but brokers accept bare words (e.g. vocab terms).
            return String(token, expand);
        }

        private QString String(string value, bool expand) => new(value, expand ? context.ExpandTerm(value) : value);

        // "..." with \" and \\ as escapes; any other backslash is kept, so regular expressions read naturally.
        private string ParseQuoted()
        {
            var open = _pos++;
            var sb = new StringBuilder();
            while (_pos < text.Length)
            {
                var c = text[_pos++];
                if (c == '"') return sb.ToString();
                if (c == '\\' && _pos < text.Length && text[_pos] is '"' or '\\') c = text[_pos++];
                sb.Append(c);
            }
            throw Error($"unterminated string starting at position {open}");
        }

        // A bare pattern runs to the end of the term; ';', '|' and ')' inside its own parentheses belong to it.
        private QPattern ParsePattern()
        {
            var start = _pos;
            string pattern;
            if (Peek('"')) pattern = ParseQuoted();
            else
            {
                var depth = 0;
                while (_pos < text.Length)
                {
                    var c = text[_pos];
                    if (c == '\\') { _pos = Math.Min(_pos + 2, text.Length); continue; }
                    if (depth == 0 && c is ';' or '|' or ')') break;
                    if (c == '(') depth++;
                    else if (c == ')') depth--;
                    _pos++;
                }
                pattern = text[start.._pos].TrimEnd();
            }
            if (pattern.Length == 0) throw Expected("a regular expression");
            if (!SafeRegex.TryGet(pattern, out _, out var problem))
                throw Error($"invalid regular expression at position {start}: {problem}");
            SkipSpace();
            if (!AtTermEnd()) throw Unexpected();
            return new QPattern(pattern);
        }

        private void SkipSpace()
        {
            while (_pos < text.Length && char.IsWhiteSpace(text[_pos])) _pos++;
        }

        private bool Peek(char c)
        {
            SkipSpace();
            return _pos < text.Length && text[_pos] == c;
        }

        private bool Accept(char c)
        {
            if (!Peek(c)) return false;
            _pos++;
            return true;
        }

        private bool Accept(string s)
        {
            SkipSpace();
            if (!text.AsSpan(_pos).StartsWith(s)) return false;
            _pos += s.Length;
            return true;
        }

        private NgsiException Unexpected() =>
            _pos >= text.Length ? Error($"unexpected end of query at position {_pos}") : Error($"unexpected '{text[_pos]}' at position {_pos}");

        private NgsiException Expected(string what) =>
            _pos >= text.Length ? Error($"expected {what} but the query ends at position {_pos}") : Error($"expected {what} at position {_pos}, found '{text[_pos]}'");

        private static NgsiException Error(string message) => NgsiException.BadRequestData("q: " + message);
    }
}
