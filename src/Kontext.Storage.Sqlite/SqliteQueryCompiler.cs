using Kontext.Ngsi.Query;
using Kontext.Ngsi.Storage;

namespace Kontext.Storage.Sqlite;

/// <summary>
/// The SQL side of a query: a WHERE clause over entities e, its parameters, and whether it is exact. The same clause is
/// rendered twice: <see cref="Where"/> with set membership (<c>e.id IN (SELECT …)</c>: each index table read once, best
/// for counts and for selective conditions), and <see cref="ProbeWhere"/> with correlated <c>EXISTS</c> look-ups per
/// entity, best for walking entities in creation order when matches are dense (a first page stops after a few hundred rows).
/// </summary>
internal sealed record CompiledQuery(string Where, IReadOnlyList<(string Name, object Value)> Parameters, bool IsExact, string ProbeWhere);

/// <summary>
/// Compiles the query model to SQL over the index tables (D3). The SQL is always a necessary condition: an entity
/// it drops cannot match. When every part compiled exactly, SQL alone decides (and pages and counts); otherwise
/// the candidates are checked with <see cref="EntityMatcher"/>, the same evaluator subscriptions use.
/// </summary>
internal sealed class SqliteQueryCompiler
{
    /// <summary>The SQL function registered on reader connections that applies <see cref="SafeRegex.IsMatch"/>.</summary>
    public const string RegexFunction = "kontext_regexp";

    private readonly List<(string Name, object Value)> _parameters = [];
    private readonly bool _correlated;
    private bool _exact = true;

    private SqliteQueryCompiler(bool correlated) => _correlated = correlated;

    public static CompiledQuery Compile(EntityPageRequest request)
    {
        var sets = new SqliteQueryCompiler(correlated: false);
        var where = sets.CompileRequest(request);
        // Parameters are named by position, and both renderings add them in the same order: one list serves both.
        var probe = new SqliteQueryCompiler(correlated: true).CompileRequest(request);
        return new CompiledQuery(where, sets._parameters, sets._exact, probe);
    }

    /// <summary>
    /// "e has a row in <paramref name="table"/> (alias <paramref name="alias"/>) satisfying <paramref name="condition"/>":
    /// set membership, or a correlated look-up through <paramref name="entityIndex"/> when given (an index led by
    /// entity_id; without it SQLite may pick the condition's index and scan it for every entity).
    /// </summary>
    private string Member(string table, string alias, string? condition, string? entityIndex = null) => _correlated
        ? $"EXISTS (SELECT 1 FROM {table} {alias}{(entityIndex is null ? "" : " INDEXED BY " + entityIndex)} WHERE {alias}.entity_id = e.id{(condition is null ? "" : " AND (" + condition + ")")})"
        : $"e.id IN (SELECT {alias}.entity_id FROM {table} {alias}{(condition is null ? "" : " WHERE " + condition)})";

    private string CompileRequest(EntityPageRequest request)
    {
        var query = request.Query;
        var clauses = new List<string>();
        if (query.Selectors is { Count: > 0 } selectors) clauses.Add("(" + string.Join(" OR ", selectors.Select(Selector)) + ")");
        if (query.Ids is { } ids) clauses.Add($"e.id IN ({string.Join(", ", ids.Select(id => Parameter(id)))})");
        // The regular expression runs inside SQLite through the evaluator's own matcher (same engine, same time limit).
        if (query.IdPattern is { } pattern) clauses.Add($"{RegexFunction}({Parameter(pattern)}, e.id)");
        if (query.Type is { } type) clauses.Add(Type(type));
        if (query.ScopeQ is { } scope) clauses.Add(Scope(scope));
        if (query.Q is { } q && Q(q) is { } qSql) clauses.Add(qSql);
        if (query.Geo is { } geo) clauses.Add(Geo(geo));
        if (request.AnyOfAttributes is { Count: > 0 } attrs)
            clauses.Add(Member("entity_attributes", "a", $"a.attr IN ({string.Join(", ", attrs.Select(a => Parameter(a)))})"));
        return clauses.Count == 0 ? "1" : string.Join(" AND ", clauses);
    }

    private string Selector(EntitySelector selector)
    {
        var parts = new List<string>();
        if (selector.Type is not null) parts.Add(Type(selector.Type));
        if (selector.Ids is { } ids) parts.Add($"e.id IN ({string.Join(", ", ids.Select(id => Parameter(id)))})");
        if (selector.IdPattern is { } pattern) parts.Add($"{RegexFunction}({Parameter(pattern)}, e.id)");
        return parts.Count == 0 ? "1" : "(" + string.Join(" AND ", parts) + ")";
    }

    private string Inexact(string sql)
    {
        _exact = false;
        return sql;
    }

    private string Parameter(object value)
    {
        var name = "$p" + _parameters.Count;
        _parameters.Add((name, value));
        return name;
    }

    private string Type(TypeExpr expr) => expr switch
    {
        TypeIs t => Member("entity_types", "t", $"t.type = {Parameter(t.Iri)}"),
        TypeAnd and => "(" + string.Join(" AND ", and.Operands.Select(Type)) + ")",
        TypeOr or => "(" + string.Join(" OR ", or.Operands.Select(Type)) + ")",
        _ => throw new ArgumentOutOfRangeException(nameof(expr)),
    };

    private string Scope(ScopeExpr expr) => expr switch
    {
        // A "+" level: the levels before it as a descendant range (a necessary condition); the evaluator checks the rest.
        ScopeIs { HasWildcard: true } w => Inexact(Scope(new ScopeIs(w.FixedPrefix, IncludeDescendants: true))),
        ScopeIs { Scope: "", IncludeDescendants: true } => Member("entity_scopes", "s", null, "ix_entity_scopes_entity"),
        // Descendants by a byte range ('/' + 1 is '0'), which the (scope, entity_id) index serves; LIKE would ignore case.
        ScopeIs { IncludeDescendants: true } s =>
            Member("entity_scopes", "s", $"s.scope = {Parameter(s.Scope)} OR (s.scope >= {Parameter(s.Scope + "/")} AND s.scope < {Parameter(s.Scope + "0")})", "ix_entity_scopes_entity"),
        ScopeIs s => Member("entity_scopes", "s", $"s.scope = {Parameter(s.Scope)}"),
        ScopeAnd and => "(" + string.Join(" AND ", and.Operands.Select(Scope)) + ")",
        ScopeOr or => "(" + string.Join(" OR ", or.Operands.Select(Scope)) + ")",
        _ => throw new ArgumentOutOfRangeException(nameof(expr)),
    };

    /// <summary>A necessary SQL condition for the q expression, or null when none can be stated (matches everything).</summary>
    private string? Q(QExpr expr)
    {
        switch (expr)
        {
            case QAnd and:
                var parts = and.Operands.Select(Q).Where(p => p is not null).ToList();
                return parts.Count == 0 ? null : "(" + string.Join(" AND ", parts) + ")";
            case QOr or:
                var alternatives = or.Operands.Select(Q).ToList();
                if (alternatives.Any(a => a is null)) return null;
                return "(" + string.Join(" OR ", alternatives) + ")";
            case QExists { Negated: false } exists:
                if (!exists.Path.IsTopLevel) _exact = false;
                return HasAttribute(exists.Path.Attribute);
            case QExists { Negated: true } missing:
                if (missing.Path.IsTopLevel) return "NOT " + HasAttribute(missing.Path.Attribute);
                _exact = false;
                return null;
            case QComparison comparison:
                return Comparison(comparison);
            default:
                _exact = false;
                return null;
        }
    }

    private string Comparison(QComparison comparison)
    {
        var attribute = comparison.Path.Attribute;
        if (!comparison.Path.IsTopLevel) { _exact = false; return HasAttribute(attribute); }
        // Numbers are indexed as they are compared, so numeric comparisons are exact; everything else is pre-filtered.
        var numeric = comparison.Op switch
        {
            QOp.Equal => comparison.Value switch
            {
                QNumber n => $"v.num = {Parameter(n.Value)}",
                QRange { Low: QNumber low, High: QNumber high } => $"v.num BETWEEN {Parameter(low.Value)} AND {Parameter(high.Value)}",
                QValueList list when list.Items.All(i => i is QNumber) =>
                    $"v.num IN ({string.Join(", ", list.Items.Cast<QNumber>().Select(n => Parameter(n.Value)))})",
                _ => null,
            },
            QOp.Greater when comparison.Value is QNumber n => $"v.num > {Parameter(n.Value)}",
            QOp.GreaterOrEqual when comparison.Value is QNumber n => $"v.num >= {Parameter(n.Value)}",
            QOp.Less when comparison.Value is QNumber n => $"v.num < {Parameter(n.Value)}",
            QOp.LessOrEqual when comparison.Value is QNumber n => $"v.num <= {Parameter(n.Value)}",
            _ => null,
        };
        if (numeric is not null)
            return Member("attribute_values", "v", $"v.attr = {Parameter(attribute)} AND {numeric}", "ix_attribute_values_entity");

        _exact = false;
        // String equality: the stored scalar equals the literal or, for a VocabProperty, its expanded IRI.
        var strings = comparison.Op == QOp.Equal ? comparison.Value switch
        {
            QString s => new[] { s.Value, s.VocabIri },
            QUri u => new[] { u.Value, u.VocabIri },
            QValueList list when list.Items.All(i => i is QString or QUri) =>
                list.Items.SelectMany(i => i is QString s ? new[] { s.Value, s.VocabIri } : [((QUri)i).Value, ((QUri)i).VocabIri]).ToArray(),
            _ => null,
        } : null;
        if (strings is not null)
            return Member("attribute_values", "v", $"v.attr = {Parameter(attribute)} AND v.str IN ({string.Join(", ", strings.Distinct().Select(s => Parameter(s)))})", "ix_attribute_values_entity");
        return HasAttribute(attribute);
    }

    private string HasAttribute(string attribute) => Member("entity_attributes", "a", $"a.attr = {Parameter(attribute)}");

    /// <summary>
    /// Bounding-box pre-filter on the R*Tree; the exact relation is checked in memory with NetTopologySuite. Always set
    /// membership: the R*Tree is searched once by box, not once per entity.
    /// </summary>
    private string Geo(GeoQuery geo)
    {
        _exact = false;
        var property = Parameter(geo.GeoProperty);
        var inProperty = $"e.id IN (SELECT g.entity_id FROM entity_geometries g WHERE g.attr = {property}";
        if (geo.Relation == GeoRelation.Disjoint || (geo.Relation == GeoRelation.Near && geo.MaxDistance is null))
            return inProperty + ")";
        var envelope = geo.Geometry.EnvelopeInternal;
        double minX = envelope.MinX, maxX = envelope.MaxX, minY = envelope.MinY, maxY = envelope.MaxY;
        if (geo.Relation == GeoRelation.Near)
        {
            // Widen by the distance: 1° of latitude is at least 110.5 km; longitude degrees shrink with cos(latitude).
            var dLat = geo.MaxDistance!.Value / 110_000.0;
            var maxAbsLat = Math.Min(89.9, Math.Max(Math.Abs(minY - dLat), Math.Abs(maxY + dLat)));
            var dLon = geo.MaxDistance.Value / (110_000.0 * Math.Cos(maxAbsLat * Math.PI / 180));
            minX -= dLon; maxX += dLon; minY -= dLat; maxY += dLat;
            if (minX < -180 || maxX > 180 || maxAbsLat >= 89.9) return inProperty + ")"; // wraps: no box
        }
        return inProperty + $" AND g.rid IN (SELECT rid FROM entity_bbox WHERE max_x >= {Parameter(minX)} AND min_x <= {Parameter(maxX)} AND max_y >= {Parameter(minY)} AND min_y <= {Parameter(maxY)}))";
    }
}
