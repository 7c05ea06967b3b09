using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Model;

namespace Kontext.Ngsi.Formats;

/// <summary>
/// One member named in a pick or omit list (clause 4.21): an entity member (id, type, scope) or an attribute name, and,
/// for a Relationship, the selection applied to the entity it links to (<c>locatedAt{name}</c>, clause 4.5.23).
/// </summary>
public sealed record SelectedMember(string Name, IReadOnlyList<SelectedMember>? Linked = null);

/// <summary>
/// The projection grammar of clause 4.21, as URL text:
/// <code>
/// list = item *(("," / "|") item)
/// item = name ["{" list "}"]
/// </code>
/// Every name is a valid NGSI-LD name (clause 4.6.2); no member may be empty, so "a,,b", "a||b", "a{}" and "a{,b}" are
/// errors, as are unbalanced braces. Errors are BadRequestData naming the position.
/// </summary>
public static class MemberSelection
{
    /// <summary>Braces nested deeper than this are refused while parsing, whatever joinLevel says.</summary>
    public const int MaxNesting = 16;

    public static IReadOnlyList<SelectedMember> Parse(string text, string parameter) => new Parser(text, parameter).ParseAll();

    /// <summary>The selection from a JSON body: an array of strings, each in the URL grammar (a "name{...}" item is allowed).</summary>
    public static IReadOnlyList<SelectedMember> Parse(IEnumerable<string> items, string parameter)
    {
        var members = new List<SelectedMember>();
        foreach (var item in items) members.AddRange(Parse(item, parameter));
        if (members.Count == 0) throw NgsiException.BadRequestData($"{parameter}: the list is empty");
        return members;
    }

    /// <summary>How many Linked Entity hops the selection reaches (0: none of its members has a "{...}" part).</summary>
    public static int Depth(IReadOnlyList<SelectedMember>? members) =>
        members is null || members.Count == 0 ? 0 : members.Max(m => m.Linked is null ? 0 : 1 + Depth(m.Linked));

    private sealed class Parser(string text, string parameter)
    {
        private int _pos;
        private int _depth;

        public IReadOnlyList<SelectedMember> ParseAll()
        {
            if (text.Length == 0) throw Error("the list is empty");
            var members = ParseList();
            if (_pos < text.Length) throw Error($"unexpected '{text[_pos]}' at position {_pos}");
            return members;
        }

        private List<SelectedMember> ParseList()
        {
            var members = new List<SelectedMember>();
            while (true)
            {
                members.Add(ParseItem());
                if (_pos < text.Length && text[_pos] is ',' or '|') { _pos++; continue; }
                return members;
            }
        }

        private SelectedMember ParseItem()
        {
            var start = _pos;
            while (_pos < text.Length && text[_pos] is not (',' or '|' or '{' or '}')) _pos++;
            var name = text[start.._pos];
            if (name.Length == 0)
                throw Error(_pos < text.Length ? $"expected a member name at position {_pos}, found '{text[_pos]}'" : $"expected a member name but the list ends at position {_pos}");
            try { Validate.Name(name, "member name"); }
            catch (NgsiException e) { throw Error($"{e.Error.Detail} (at position {start})"); }
            if (_pos == text.Length || text[_pos] != '{') return new SelectedMember(name);
            var open = _pos++;
            if (++_depth > MaxNesting) throw Error($"braces are nested more than {MaxNesting} deep at position {open}");
            var linked = ParseList();
            if (_pos == text.Length) throw Error($"unbalanced brace: '{{' at position {open} is never closed");
            if (text[_pos] != '}') throw Error($"unexpected '{text[_pos]}' at position {_pos}");
            _pos++;
            _depth--;
            return new SelectedMember(name, linked);
        }

        private NgsiException Error(string message) => NgsiException.BadRequestData($"{parameter}: {message}");
    }
}
