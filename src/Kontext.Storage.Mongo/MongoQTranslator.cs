using Kontext.Ngsi.Query;
using MongoDB.Bson;

namespace Kontext.Storage.Mongo;

/// <summary>
/// q (clause 4.9) → a necessary MongoDB condition over the derived fields of <see cref="MongoEntityDocument"/>:
/// <list type="bullet">
/// <item>attribute existence on names (exact at top level);</item>
/// <item>top-level comparisons of numbers and booleans on vals.&lt;attr&gt;, the union of every instance's scalars
/// (datasetId multi-attributes included), with MongoDB's type-bracketed comparisons: exact, like the evaluator's
/// "any instance, any element" rule; ranges use $elemMatch so one element satisfies both bounds;</item>
/// <item>string equality on vals (literal or its vocab IRI: inexact, the evaluator picks by attribute type);</item>
/// <item>datasetId / unitCode equality on the instances (exact);</item>
/// <item>everything else (≠, patterns, dates, sub-attribute and compound paths): the path's attribute, or for
/// sub-attributes the path itself, must exist; the evaluator decides.</item>
/// </list>
/// Returns null when no condition can be stated (matches everything).
/// </summary>
internal sealed class MongoQTranslator(MongoQueryTranslator owner)
{
    public BsonDocument? Translate(QExpr expr)
    {
        switch (expr)
        {
            case QAnd and:
                var parts = and.Operands.Select(Translate).OfType<BsonDocument>().ToList();
                return parts.Count switch { 0 => null, 1 => parts[0], _ => MongoQueryTranslator.And(parts) };
            case QOr or:
                var alternatives = or.Operands.Select(Translate).ToList();
                if (alternatives.Any(a => a is null)) return null;
                return MongoQueryTranslator.Or(alternatives!);
            case QExists { Negated: false } exists:
                return exists.Path.IsTopLevel ? Has(exists.Path.Attribute) : PathExists(exists.Path);
            case QExists { Negated: true } missing:
                if (missing.Path.IsTopLevel) return new BsonDocument(MongoEntityDocument.Names, new BsonDocument("$ne", MongoKeys.Encode(missing.Path.Attribute)));
                owner.Inexact();
                return null;
            case QComparison comparison:
                return Comparison(comparison);
            default:
                owner.Inexact();
                return null;
        }
    }

    private BsonDocument Comparison(QComparison c)
    {
        if (!c.Path.IsTopLevel) return MetaEquality(c) ?? PathExists(c.Path);
        var vals = MongoEntityDocument.Vals + "." + MongoKeys.Encode(c.Path.Attribute);
        var exact = c.Op switch
        {
            QOp.Equal => c.Value switch
            {
                QNumber n => new BsonDocument(vals, n.Value),
                QBoolean b => new BsonDocument(vals, b.Value),
                QRange { Low: QNumber low, High: QNumber high } =>
                    new BsonDocument(vals, new BsonDocument("$elemMatch", new BsonDocument { { "$gte", low.Value }, { "$lte", high.Value } })),
                QValueList list when list.Items.All(i => i is QNumber or QBoolean) =>
                    new BsonDocument(vals, new BsonDocument("$in", new BsonArray(list.Items.Select(Scalar)))),
                _ => null,
            },
            QOp.Greater or QOp.GreaterOrEqual or QOp.Less or QOp.LessOrEqual when c.Value is QNumber or QBoolean =>
                new BsonDocument(vals, new BsonDocument(Operator(c.Op), Scalar((QLiteral)c.Value))),
            _ => null,
        };
        if (exact is not null) return exact;

        owner.Inexact();
        var strings = c.Op == QOp.Equal ? c.Value switch
        {
            QString or QUri => Strings((QLiteral)c.Value),
            QValueList list when list.Items.All(i => i is QString or QUri) => list.Items.SelectMany(Strings),
            _ => null,
        } : null;
        return strings is null
            ? Has(c.Path.Attribute)
            : new BsonDocument(vals, new BsonDocument("$in", new BsonArray(strings.Distinct(StringComparer.Ordinal))));
    }

    /// <summary>a.datasetId=="urn:..." and a.unitCode=="CEL": the member is a plain string on the instance.</summary>
    private static BsonDocument? MetaEquality(QComparison c)
    {
        if (c.Op != QOp.Equal || c.Path.Members.Count != 1 || c.Path.Compound.Count != 0) return null;
        var member = c.Path.Members[0];
        if (member is not ("datasetId" or "unitCode")) return null;
        var values = c.Value switch
        {
            QString s => [s.Value],
            QUri u => [u.Value],
            QValueList list when list.Items.All(i => i is QString or QUri) => list.Items.Select(i => i is QString s ? s.Value : ((QUri)i).Value).ToArray(),
            _ => (string[]?)null,
        };
        if (values is null) return null;
        var path = MongoEntityDocument.Attrs + "." + MongoKeys.Path(c.Path.Attribute, member);
        return values.Length == 1 ? new BsonDocument(path, values[0]) : new BsonDocument(path, new BsonDocument("$in", new BsonArray(values)));
    }

    private static IEnumerable<string> Strings(QLiteral literal) => literal switch
    {
        QString s => [s.Value, s.VocabIri],
        QUri u => [u.Value, u.VocabIri],
        _ => [],
    };

    private static BsonValue Scalar(QLiteral literal) => literal switch
    {
        QNumber n => n.Value,
        QBoolean b => b.Value,
        _ => throw new ArgumentOutOfRangeException(nameof(literal)),
    };

    private static string Operator(QOp op) => op switch
    {
        QOp.Greater => "$gt",
        QOp.GreaterOrEqual => "$gte",
        QOp.Less => "$lt",
        _ => "$lte",
    };

    private static BsonDocument Has(string attribute) => new(MongoEntityDocument.Names, MongoKeys.Encode(attribute));

    /// <summary>
    /// A sub-attribute (or meta member) path must exist in some instance: attrs.&lt;a&gt;.&lt;b&gt;.&lt;c&gt; (MongoDB walks the
    /// instance array). Compound paths look inside the value, whose member depends on the attribute type: the attribute must exist.
    /// </summary>
    private BsonDocument PathExists(QPath path)
    {
        owner.Inexact();
        if (path.Members.Count == 0) return Has(path.Attribute);
        var members = path.Members.TakeWhile(m => !QPath.MetaMembers.Contains(m)).ToList();
        if (members.Count < path.Members.Count) members.Add(path.Members[members.Count]);
        var full = MongoEntityDocument.Attrs + "." + MongoKeys.Path([path.Attribute, .. members]);
        return new BsonDocument(full, new BsonDocument("$exists", true));
    }
}
