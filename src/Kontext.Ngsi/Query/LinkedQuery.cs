namespace Kontext.Ngsi.Query;

/// <summary>
/// q terms on linked entities (clause 4.9, <c>rel{path} op value</c>): "some entity that rel links to satisfies
/// <c>path op value</c>". Such a term is turned into an ordinary term before the query runs: the linked entities that
/// satisfy the inner term are found first (one store query per linked term, innermost first), and the term becomes
/// "rel is one of their ids". What remains is a plain q that stores compile and the evaluator checks as always.
/// </summary>
public static class LinkedQuery
{
    /// <summary>How many linked-entity hops the deepest term of <paramref name="expr"/> takes (0: none).</summary>
    public static int Depth(QExpr? expr) => expr switch
    {
        QAnd and => and.Operands.Max(Depth),
        QOr or => or.Operands.Max(Depth),
        QExists exists => Depth(exists.Path),
        QComparison comparison => Depth(comparison.Path),
        _ => 0,
    };

    private static int Depth(QPath path) => path.Linked is null ? 0 : 1 + Depth(path.Linked.Path);

    /// <summary>
    /// Replaces every linked term. <paramref name="findIds"/> runs an entity query and returns the ids of the matches
    /// (it enforces its own cap on how many it returns).
    /// </summary>
    public static async Task<QExpr> ResolveAsync(QExpr expr, Func<EntityQuery, CancellationToken, Task<IReadOnlyList<string>>> findIds,
        CancellationToken cancellationToken)
    {
        switch (expr)
        {
            case QAnd and:
                return new QAnd(new(await ResolveAllAsync(and.Operands, findIds, cancellationToken)));
            case QOr or:
                return new QOr(new(await ResolveAllAsync(or.Operands, findIds, cancellationToken)));
            case QExists { Path.Linked: { } linked } exists:
                var having = await TargetsAsync(linked, new QExists(linked.Path, Negated: false), findIds, cancellationToken);
                var relationship = new QPath(exists.Path.Attribute);
                // "no linked entity has the path": no such Relationship at all, or one pointing elsewhere.
                return exists.Negated
                    ? new QOr([new QExists(relationship, Negated: true), new QComparison(relationship, QOp.NotEqual, having)])
                    : new QComparison(relationship, QOp.Equal, having);
            case QComparison { Path.Linked: { } linked } comparison:
                var matching = await TargetsAsync(linked, comparison with { Path = linked.Path }, findIds, cancellationToken);
                return new QComparison(new QPath(comparison.Path.Attribute), QOp.Equal, matching);
            default:
                return expr;
        }
    }

    private static async Task<List<QExpr>> ResolveAllAsync(IEnumerable<QExpr> operands,
        Func<EntityQuery, CancellationToken, Task<IReadOnlyList<string>>> findIds, CancellationToken cancellationToken)
    {
        var resolved = new List<QExpr>();
        foreach (var operand in operands) resolved.Add(await ResolveAsync(operand, findIds, cancellationToken));
        return resolved;
    }

    /// <summary>The ids of the entities (of the hinted types) that satisfy the inner term, as a list a Relationship is compared with.</summary>
    private static async Task<QValueList> TargetsAsync(QLinkedPath linked, QExpr inner,
        Func<EntityQuery, CancellationToken, Task<IReadOnlyList<string>>> findIds, CancellationToken cancellationToken)
    {
        inner = await ResolveAsync(inner, findIds, cancellationToken);
        TypeExpr? types = linked.Types.Count switch
        {
            0 => null,
            1 => new TypeIs(linked.Types[0]),
            _ => new TypeOr(new(linked.Types.Select(t => (TypeExpr)new TypeIs(t)))),
        };
        var ids = await findIds(new EntityQuery(Type: types, Q: inner), cancellationToken);
        return new QValueList(new(ids.Select(id => (QLiteral)new QUri(id, id))));
    }
}
