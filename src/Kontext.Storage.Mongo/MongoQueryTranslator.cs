using Kontext.Ngsi.Query;
using Kontext.Ngsi.Storage;
using MongoDB.Bson;

namespace Kontext.Storage.Mongo;

/// <summary>The Mongo side of a query: a filter over the entities collection and whether it alone decides.</summary>
public sealed record MongoQuery(BsonDocument Filter, bool IsExact);

/// <summary>
/// Compiles the query model to a MongoDB filter (D3), as the SQLite compiler does to SQL: the filter is always a
/// NECESSARY condition (an entity it drops cannot match). When every part translated exactly, MongoDB alone filters,
/// pages and counts; otherwise the candidates are re-checked with <see cref="EntityMatcher"/>.
/// </summary>
public sealed class MongoQueryTranslator
{
    private bool _exact = true;

    public static MongoQuery Translate(EntityPageRequest request)
    {
        var translator = new MongoQueryTranslator();
        var filter = translator.Request(request);
        return new MongoQuery(filter, translator._exact);
    }

    internal void Inexact() => _exact = false;

    private BsonDocument Request(EntityPageRequest request)
    {
        var query = request.Query;
        var clauses = new List<BsonDocument>();
        if (query.Selectors is { Count: > 0 } selectors) clauses.Add(Or(selectors.Select(Selector)));
        if (query.Ids is { } ids) clauses.Add(new BsonDocument("_id", new BsonDocument("$in", new BsonArray(ids))));
        if (query.IdPattern is not null) _exact = false; // .NET regular expressions, with a time limit, in memory
        if (query.Type is { } type) clauses.Add(Type(type));
        if (query.ScopeQ is { } scope)
        {
            if (HasWildcard(scope)) _exact = false; // a "+" level: the levels before it pre-filter, the evaluator decides
            clauses.Add(Scope(scope));
        }
        if (query.Q is { } q && new MongoQTranslator(this).Translate(q) is { } qFilter) clauses.Add(qFilter);
        if (query.Geo is { } geo)
        {
            _exact = false;
            clauses.Add(MongoGeoTranslator.Translate(geo));
        }
        if (request.AnyOfAttributes is { Count: > 0 } attrs)
            clauses.Add(new BsonDocument(MongoEntityDocument.Names, new BsonDocument("$in", new BsonArray(attrs.Select(MongoKeys.Encode)))));

        return clauses.Count switch { 0 => new BsonDocument(), 1 => clauses[0], _ => And(clauses) };
    }

    private BsonDocument Selector(EntitySelector selector)
    {
        var parts = new List<BsonDocument>();
        if (selector.Type is not null) parts.Add(Type(selector.Type));
        if (selector.Ids is { } ids) parts.Add(ids.Count == 1 ? new BsonDocument("_id", ids[0]) : new BsonDocument("_id", new BsonDocument("$in", new BsonArray(ids))));
        if (selector.IdPattern is not null) _exact = false;
        return parts.Count switch { 0 => new BsonDocument(), 1 => parts[0], _ => And(parts) };
    }

    public static BsonDocument Type(TypeExpr expr) => expr switch
    {
        TypeIs t => new BsonDocument("type", t.Iri),
        TypeAnd and => And(and.Operands.Select(Type)),
        TypeOr or => or.Operands.All(o => o is TypeIs)
            ? new BsonDocument("type", new BsonDocument("$in", new BsonArray(or.Operands.Cast<TypeIs>().Select(t => t.Iri))))
            : Or(or.Operands.Select(Type)),
        _ => throw new ArgumentOutOfRangeException(nameof(expr)),
    };

    /// <summary>Scopes: exact values, descendants by a binary range on one element ('/' + 1 is '0'), served by the scope index.</summary>
    private static bool HasWildcard(ScopeExpr expr) => expr switch
    {
        ScopeIs s => s.HasWildcard,
        ScopeAnd and => and.Operands.Any(HasWildcard),
        ScopeOr or => or.Operands.Any(HasWildcard),
        _ => false,
    };

    public static BsonDocument Scope(ScopeExpr expr) => expr switch
    {
        ScopeIs { HasWildcard: true } w => Scope(new ScopeIs(w.FixedPrefix, IncludeDescendants: true)),
        ScopeIs { Scope: "", IncludeDescendants: true } => new BsonDocument("scope", new BsonDocument("$exists", true)),
        ScopeIs { IncludeDescendants: true } s => Or([
            new BsonDocument("scope", s.Scope),
            new BsonDocument("scope", new BsonDocument("$elemMatch", new BsonDocument { { "$gte", s.Scope + "/" }, { "$lt", s.Scope + "0" } })),
        ]),
        ScopeIs s => new BsonDocument("scope", s.Scope),
        ScopeAnd and => And(and.Operands.Select(Scope)),
        ScopeOr or => Or(or.Operands.Select(Scope)),
        _ => throw new ArgumentOutOfRangeException(nameof(expr)),
    };

    internal static BsonDocument And(IEnumerable<BsonDocument> parts) => new("$and", new BsonArray(parts));

    internal static BsonDocument Or(IEnumerable<BsonDocument> parts) => new("$or", new BsonArray(parts));
}
