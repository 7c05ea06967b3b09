using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Model;

namespace Kontext.Ngsi.Query;

/// <summary>
/// In-memory evaluation of q-language expressions on an expanded entity. Rules:
/// <list type="bullet">
/// <item>A comparison holds when ANY instance of the attribute (multi-attribute, by datasetId) satisfies it.</item>
/// <item>Within an instance, an array value (and every languageMap value, vocab list, objectList) holds when any element does.</item>
/// <item><c>!=</c> and <c>!~=</c> are the negation of <c>==</c> and <c>~=</c> on one instance; the attribute must exist.</item>
/// <item>Values of different kinds (number vs string, string vs boolean, …) are never equal and never ordered.</item>
/// <item>Relationship compares its object, LanguageProperty its languageMap values, VocabProperty its (expanded) vocab.</item>
/// <item>On a LanguageProperty, <c>attr[tag]</c> looks at the value of that language only, <c>attr[*]</c> at every language's.</item>
/// <item>A Relationship or ListRelationship matches only == and != (any other operator never matches, clause 4.9).</item>
/// <item>A linked-entity path (<c>rel{path}</c>) is resolved before evaluation (<see cref="LinkedQuery"/>); left unresolved, it reaches nothing.</item>
/// </list>
/// </summary>
public static class QEvaluator
{
    public static bool Evaluate(QExpr expr, Entity entity) => expr switch
    {
        QAnd and => and.Operands.All(o => Evaluate(o, entity)),
        QOr or => or.Operands.Any(o => Evaluate(o, entity)),
        QExists exists => Resolve(entity, exists.Path).Any() != exists.Negated,
        QComparison comparison => Resolve(entity, comparison.Path).Any(target => Holds(target, comparison)),
        _ => throw new ArgumentOutOfRangeException(nameof(expr), expr, "unknown q expression"),
    };

    /// <summary>
    /// The scalars a top-level comparison on this instance looks at (its value, object(s), vocab, languageMap values,
    /// list elements). Stores index exactly these, so a pushed-down comparison sees what this evaluator sees.
    /// </summary>
    public static IEnumerable<JsonNode> TopLevelScalars(JsonObject instance)
    {
        var scalars = new List<JsonNode>();
        AddTopLevelScalars(instance, scalars);
        return scalars;
    }

    /// <summary><see cref="TopLevelScalars"/> added to a list the caller keeps (the index reads every instance written: no enumerator for each).</summary>
    public static void AddTopLevelScalars(JsonObject instance, List<JsonNode> scalars)
    {
        if (ResolveInstance(instance, TopLevel) is { } target) AddScalars(target.Node, scalars);
    }

    private static readonly QPath TopLevel = new("");

    /// <summary>
    /// The value an ordering looks at (clause 4.23): what the path reaches in the default instance (else the first
    /// instance that has it), the first element of a list; null when the entity has none.
    /// </summary>
    public static JsonNode? OrderingValue(Entity entity, QPath path)
    {
        if (path.Linked is not null || !entity.Attributes.TryGetValue(path.Attribute, out var instances)) return null;
        foreach (var instance in instances.OrderBy(i => Attr.DatasetId(i) is null ? 0 : 1))
        {
            if (ResolveInstance(instance, path) is not { } target) continue;
            var node = Unwrap(target.Node);
            return node is JsonArray list ? (list.Count > 0 ? Unwrap(list[0]) : null) : node;
        }
        return null;
    }

    /// <summary>What a path reaches in one attribute instance: the JSON node, whether it holds vocab IRIs, whether it is a Relationship's object(s).</summary>
    private readonly record struct Target(JsonNode Node, bool IsVocab, bool IsObject = false);

    private static IEnumerable<Target> Resolve(Entity entity, QPath path)
    {
        if (path.Linked is not null || !entity.Attributes.TryGetValue(path.Attribute, out var instances)) yield break;
        foreach (var instance in instances)
        {
            if (ResolveInstance(instance, path) is { } target) yield return target;
        }
    }

    private static Target? ResolveInstance(JsonObject instance, QPath path)
    {
        var current = instance;
        JsonNode? node = null;
        foreach (var member in path.Members)
        {
            if (QPath.MetaMembers.Contains(member))
            {
                node = current[member];
                break;
            }
            if (current[member] is not JsonObject sub) return null;
            current = sub;
        }
        var isVocab = false;
        var isObject = false;
        var compound = path.Compound.AsEnumerable();
        if (node is null && (path.Members.Count == 0 || !QPath.MetaMembers.Contains(path.Members[^1])))
        {
            var type = Attr.Type(current);
            isVocab = type == Attr.VocabProperty;
            isObject = type is Attr.Relationship or Attr.ListRelationship;
            node = type switch
            {
                Attr.LanguageProperty => current["languageMap"] is JsonObject map ? Languages(map, path.Compound.FirstOrDefault()) : null,
                Attr.ListRelationship => current["objectList"] is JsonArray list
                    ? new JsonArray(list.Select(e => (e is JsonObject o ? o["object"] : e)?.DeepClone()).ToArray()) : null,
                _ => Attr.Payload(current),
            };
            // On a LanguageProperty the first [..] names the language, not a member of the value.
            if (type == Attr.LanguageProperty) compound = compound.Skip(1);
        }
        foreach (var key in compound)
        {
            node = Unwrap(node) is JsonObject o ? o[key] : null;
        }
        return node is null ? null : new Target(node, isVocab, isObject);
    }

    /// <summary>The languageMap values a path looks at: every language's (no tag, or "*"), or the one of the tag (absent: none).</summary>
    private static JsonNode? Languages(JsonObject map, string? tag) => tag is null or "*"
        ? new JsonArray(map.Select(p => p.Value?.DeepClone()).ToArray())
        : map.FirstOrDefault(p => string.Equals(p.Key, tag, StringComparison.OrdinalIgnoreCase)).Value?.DeepClone();

    private static bool Holds(Target target, QComparison comparison)
    {
        if (target.IsObject && comparison.Op is not (QOp.Equal or QOp.NotEqual)) return false;
        var scalars = new List<JsonNode>();
        AddScalars(target.Node, scalars);
        return comparison.Op switch
        {
            QOp.Equal => scalars.Any(s => IsEqual(s, comparison.Value, target.IsVocab)),
            QOp.NotEqual => !scalars.Any(s => IsEqual(s, comparison.Value, target.IsVocab)),
            QOp.Matches => scalars.Any(s => Matches(s, comparison.Value)),
            QOp.NotMatches => !scalars.Any(s => Matches(s, comparison.Value)),
            _ => comparison.Value is QLiteral literal && scalars.Any(s => Order(s, literal, target.IsVocab) is { } c && comparison.Op switch
            {
                QOp.Greater => c > 0,
                QOp.GreaterOrEqual => c >= 0,
                QOp.Less => c < 0,
                QOp.LessOrEqual => c <= 0,
                _ => false,
            }),
        };
    }

    // Arrays (also nested, e.g. a languageMap entry with several strings) compare element-wise.
    private static void AddScalars(JsonNode node, List<JsonNode> scalars)
    {
        if (Unwrap(node) is JsonArray array)
        {
            foreach (var element in array)
                if (element is not null) AddScalars(element, scalars);
        }
        else scalars.Add(Unwrap(node)!);
    }

    // JSON-LD typed values ({"@type": "DateTime", "@value": "..."}) compare by their @value.
    private static JsonNode? Unwrap(JsonNode? node) => node is JsonObject o && o["@value"] is { } v ? v : node;

    private static bool IsEqual(JsonNode scalar, QValue value, bool isVocab) => value switch
    {
        QRange range => Order(scalar, range.Low, isVocab) >= 0 && Order(scalar, range.High, isVocab) <= 0,
        QValueList list => list.Items.Any(item => Order(scalar, item, isVocab) == 0),
        QLiteral literal => Order(scalar, literal, isVocab) == 0,
        _ => false,
    };

    private static bool Matches(JsonNode scalar, QValue value) =>
        value is QPattern pattern && scalar is JsonValue v && v.GetValueKind() == JsonValueKind.String
        && SafeRegex.IsMatch(pattern.Pattern, v.GetValue<string>());

    /// <summary>The order of a stored scalar relative to a literal, or null when they are not comparable.</summary>
    private static int? Order(JsonNode scalar, QLiteral literal, bool isVocab)
    {
        if (scalar is not JsonValue value) return null;
        switch (value.GetValueKind())
        {
            case JsonValueKind.Number:
                return literal is QNumber n ? AsDouble(value).CompareTo(n.Value) : null;
            case JsonValueKind.True or JsonValueKind.False:
                return literal is QBoolean b ? value.GetValue<bool>().CompareTo(b.Value) : null;
            case JsonValueKind.String:
                return OrderString(value.GetValue<string>(), literal, isVocab);
            default:
                return null;
        }
    }

    // Nodes parsed from JSON hold a JsonElement, nodes built in code may hold an int or long: read any as double.
    private static double AsDouble(JsonValue value) => JsonNumbers.TryGetDouble(value, out var d) ? d : double.NaN;

    private static int? OrderString(string s, QLiteral literal, bool isVocab) => literal switch
    {
        QString str => string.CompareOrdinal(s, isVocab ? str.VocabIri : str.Value),
        QUri uri => string.CompareOrdinal(s, isVocab ? uri.VocabIri : uri.Value),
        QDateTime dt => Validate.TryParseDateTime(s, out var instant, allowOffset: true) ? instant.CompareTo(dt.Value) : null,
        QDate d => DateOnly.TryParseExact(s, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date) ? date.CompareTo(d.Value) : null,
        QTime t => TimeOnly.TryParse(s.TrimEnd('Z'), CultureInfo.InvariantCulture, DateTimeStyles.None, out var time) ? time.CompareTo(t.Value) : null,
        _ => null,
    };
}
