using MongoDB.Bson;

namespace Kontext.Storage.Tests.Mongo.Recording;

/// <summary>
/// The fake server's query and update semantics: a small subset of MongoDB's, enough for the store's own look-ups
/// (equality, $in, $nin, $ne, $gt/$gte/$lt/$lte, $exists, $and/$or/$nor, dotted paths, array membership) and updates
/// ($set, $unset, $inc, $min, $max, $setOnInsert, replacement). An operator it does not know matches nothing, so a test that
/// depends on results from, say, a geo filter notices rather than passing by accident.
/// </summary>
public static class BsonMatch
{
    public static bool Matches(BsonDocument doc, BsonDocument filter) => filter.All(e => e.Name switch
    {
        "$and" => e.Value.AsBsonArray.All(f => Matches(doc, f.AsBsonDocument)),
        "$or" => e.Value.AsBsonArray.Any(f => Matches(doc, f.AsBsonDocument)),
        "$nor" => !e.Value.AsBsonArray.Any(f => Matches(doc, f.AsBsonDocument)),
        _ when e.Name.StartsWith('$') => false,
        _ => FieldMatches(Get(doc, e.Name), e.Value),
    });

    public static BsonValue? Get(BsonDocument doc, string path)
    {
        BsonValue? current = doc;
        foreach (var part in path.Split('.'))
        {
            if (current is not BsonDocument d || !d.TryGetValue(part, out var next)) return null;
            current = next;
        }
        return current;
    }

    private static bool FieldMatches(BsonValue? value, BsonValue condition)
    {
        if (condition is BsonDocument ops && ops.ElementCount > 0 && ops.GetElement(0).Name.StartsWith('$'))
            return ops.All(op => Operator(value, op.Name, op.Value));
        return EqualsOrContains(value, condition);
    }

    private static bool EqualsOrContains(BsonValue? value, BsonValue expected)
    {
        if (expected.IsBsonNull) return value is null || value.IsBsonNull;
        if (value is null) return false;
        if (value.Equals(expected) || (value.IsNumeric && expected.IsNumeric && value.ToDouble() == expected.ToDouble())) return true;
        return value is BsonArray array && !expected.IsBsonArray && array.Any(v => EqualsOrContains(v, expected));
    }

    private static bool Operator(BsonValue? value, string op, BsonValue argument) => op switch
    {
        "$eq" => EqualsOrContains(value, argument),
        "$ne" => !EqualsOrContains(value, argument),
        "$in" => argument.AsBsonArray.Any(a => EqualsOrContains(value, a)),
        "$nin" => !argument.AsBsonArray.Any(a => EqualsOrContains(value, a)),
        "$exists" => (value is not null) == argument.ToBoolean(),
        "$gt" => Compare(value, argument, c => c > 0),
        "$gte" => Compare(value, argument, c => c >= 0),
        "$lt" => Compare(value, argument, c => c < 0),
        "$lte" => Compare(value, argument, c => c <= 0),
        _ => false,
    };

    /// <summary>Comparisons are type-bracketed, as on the server: a number never compares with a string or a date.</summary>
    private static bool Compare(BsonValue? value, BsonValue argument, Func<int, bool> accept)
    {
        if (value is BsonArray array) return array.Any(v => Compare(v, argument, accept));
        if (value is null || value.IsBsonNull) return false;
        if (value.IsNumeric && argument.IsNumeric) return accept(value.ToDouble().CompareTo(argument.ToDouble()));
        if (value.BsonType != argument.BsonType) return false;
        return accept(value.CompareTo(argument));
    }

    public static int CompareForSort(BsonValue? a, BsonValue? b)
    {
        if (a is null || b is null) return (a is null ? 0 : 1) - (b is null ? 0 : 1);
        if (a.IsNumeric && b.IsNumeric) return a.ToDouble().CompareTo(b.ToDouble());
        return a.CompareTo(b);
    }

    /// <summary>Applies an update document (operators or a replacement) to a copy of <paramref name="doc"/>.</summary>
    public static BsonDocument Apply(BsonDocument doc, BsonDocument update, bool inserting)
    {
        if (update.ElementCount == 0 || !update.GetElement(0).Name.StartsWith('$'))
        {
            var replaced = update.DeepClone().AsBsonDocument;
            if (doc.TryGetValue("_id", out var id)) replaced.Set("_id", id);
            return replaced;
        }
        var result = doc.DeepClone().AsBsonDocument;
        foreach (var op in update)
        {
            foreach (var field in op.Value.AsBsonDocument)
            {
                switch (op.Name)
                {
                    case "$set": Set(result, field.Name, field.Value); break;
                    case "$setOnInsert": if (inserting) Set(result, field.Name, field.Value); break;
                    case "$unset": Unset(result, field.Name); break;
                    case "$inc":
                        var current = Get(result, field.Name);
                        Set(result, field.Name, current is null ? field.Value
                            : current.IsInt64 || field.Value.IsInt64 ? new BsonInt64(current.ToInt64() + field.Value.ToInt64())
                            : current.IsDouble || field.Value.IsDouble ? new BsonDouble(current.ToDouble() + field.Value.ToDouble())
                            : new BsonInt32(current.ToInt32() + field.Value.ToInt32()));
                        break;
                    case "$max":
                        var existing = Get(result, field.Name);
                        if (existing is null || CompareForSort(field.Value, existing) > 0) Set(result, field.Name, field.Value);
                        break;
                    case "$min":
                        var present = Get(result, field.Name);
                        if (present is null || CompareForSort(field.Value, present) < 0) Set(result, field.Name, field.Value);
                        break;
                    default: throw new NotSupportedException($"the fake server does not apply {op.Name}");
                }
            }
        }
        return result;
    }

    /// <summary>The document an upsert inserts: the filter's equality fields, then the update.</summary>
    public static BsonDocument Seed(BsonDocument filter)
    {
        var seed = new BsonDocument();
        foreach (var e in filter)
            if (!e.Name.StartsWith('$') && !(e.Value is BsonDocument d && d.ElementCount > 0 && d.GetElement(0).Name.StartsWith('$')))
                Set(seed, e.Name, e.Value);
        return seed;
    }

    private static void Set(BsonDocument doc, string path, BsonValue value)
    {
        var parts = path.Split('.');
        var current = doc;
        foreach (var part in parts[..^1])
        {
            if (!current.TryGetValue(part, out var next) || next is not BsonDocument child)
                current[part] = child = new BsonDocument();
            current = child;
        }
        current[parts[^1]] = value;
    }

    private static void Unset(BsonDocument doc, string path)
    {
        var parts = path.Split('.');
        var current = doc;
        foreach (var part in parts[..^1])
        {
            if (!current.TryGetValue(part, out var next) || next is not BsonDocument child) return;
            current = child;
        }
        current.Remove(parts[^1]);
    }
}
