using Kontext.Ngsi.Query;
using Kontext.Ngsi.Storage;

namespace Kontext.Storage.Sqlite;

/// <summary>
/// The SQL side of a query: a WHERE clause over entities e, its parameters, and whether it is exact. The same clause is
/// rendered twice: <see cref="Where"/> with set membership (<c>e.ek IN (SELECT …)</c>: each index table read once, best
/// for counts and for selective conditions), and <see cref="ProbeWhere"/> with correlated <c>EXISTS</c> look-ups per
/// entity, best for walking entities in creation order when matches are dense (a first page stops after a few hundred rows).
/// </summary>
/// <param name="Count">
/// The exact query's count. When no clause reads the entity row (ids and id patterns do), it runs over the integer keys
/// of one clause's index rows and checks the others by set membership: covering indexes only, no entity looked up.
/// </param>
/// <param name="ByGeometry">
/// The candidates come from the R*Tree (a bounding box), and <see cref="Where"/> lets SQLite use nothing else to find
/// them: walks go through the box's entities by key, not through the entity table or a type's members.
/// </param>
/// <param name="CountByAttribute">
/// When the query is a type and clauses that each need the entity to have an attribute: the count without the type
/// clause. It answers when the type statistics show that no entity of another type has that attribute (then every
/// entity having it is of the type, and the type's keys need not be intersected at all).
/// </param>
/// <param name="KeyedPages">
/// The ways to page the exact query without walking the entity table: one per clause that is a plain index-table
/// membership (<see cref="KeyedPage"/>); empty when a clause reads the entity row.
/// </param>
/// <param name="Cells">With <paramref name="ByGeometry"/>: the same box for a walk of the grid cells (<see cref="SqliteCellWalk"/>).</param>
internal sealed record CompiledQuery(string Where, IReadOnlyList<(string Name, object Value)> Parameters, bool IsExact, string ProbeWhere, string Count, bool ByGeometry,
    ImpliedTypeCount? CountByAttribute = null, IReadOnlyList<KeyedPage>? KeyedPages = null, GeoCellQuery? Cells = null);

/// <summary>
/// A geo clause's box (widened by the distance for near) over the GeoProperty <paramref name="Attribute"/>, with the point
/// and distance of a near (then a candidate's box must also lie within <see cref="SqliteQueryCompiler.BoxDistanceMetres"/>
/// of the point), and <paramref name="Rest"/>: the other clauses as per-entity look-ups on <c>entities e</c>.
/// </summary>
/// <param name="RestReadsRow">Whether <paramref name="Rest"/> reads the entity row (ids, id patterns), not only its key.</param>
/// <param name="RestParameters">The parameters <paramref name="Rest"/> names (its prepared statement is shared by queries with other geo clauses).</param>
internal sealed record GeoCellQuery(string Attribute, double MinX, double MaxX, double MinY, double MaxY, (double Lon, double Lat, double MaxDistance)? Near, string Rest,
    bool RestReadsRow = true, IReadOnlyList<(string Name, object Value)>? RestParameters = null);

/// <summary>
/// A page found through one clause's index: that clause's keys in key order (its index gives them so when each entity
/// has at most one row, <paramref name="Unique"/>; else grouped by key), the other clauses checked per key by look-ups,
/// <c>LIMIT/OFFSET</c> over the keys, and only the page's documents read. <paramref name="Estimate"/> counts the
/// clause's index rows up to a bound (<c>$bound</c>), so the caller can let the smallest key set drive; it binds only
/// <paramref name="EstimateParameters"/>, the ones it names (its prepared statement is shared by queries with other clauses).
/// </summary>
/// <param name="Type">For the key set of a single type, that type: its size is in the statistics.</param>
internal sealed record KeyedPage(string Page, string Estimate, bool Unique, IReadOnlyList<(string Name, object Value)> EstimateParameters, string? Type = null);

/// <summary>A count that leaves out the type clause when <paramref name="Type"/> is the only type any entity having one of <paramref name="Attributes"/> has.</summary>
internal sealed record ImpliedTypeCount(string Type, IReadOnlyList<string> Attributes, string Count);

/// <summary>
/// Compiles the query model to SQL over the index tables (D3). The SQL is always a necessary condition: an entity
/// it drops cannot match. When every part compiled exactly, SQL alone decides (and pages and counts); otherwise
/// the candidates are checked with <see cref="EntityMatcher"/>, the same evaluator subscriptions use.
/// </summary>
internal sealed partial class SqliteQueryCompiler
{
    /// <summary>The SQL function registered on reader connections that applies <see cref="SafeRegex.IsMatch"/>.</summary>
    public const string RegexFunction = "kontext_regexp";

    /// <summary>The SQL function registered on reader connections that gives <see cref="BoxDistanceMetres"/>.</summary>
    public const string BoxDistanceFunction = "kontext_box_distance";

    private readonly List<(string Name, object Value)> _parameters = [];
    private readonly bool _correlated;
    private bool _exact = true;
    private bool _readsEntityRow;
    private string? _geoBox;
    private GeoCellQuery? _cellBox;
    // The key sets of the set-membership clauses made by Member, by the clause's SQL: a count's candidates.
    private readonly Dictionary<string, string> _keySets = new(StringComparer.Ordinal);
    // Those of them whose index holds an entity at most once (a primary key led by the clause's equality).
    private readonly HashSet<string> _uniqueKeySets = new(StringComparer.Ordinal);
    // The top-level type clause (a single type) and the attributes every match must have (clauses outside OR and NOT).
    private (string Sql, string Iri)? _typeClause;
    private readonly List<string> _requiredAttributes = [];
    private int _optional;

    private SqliteQueryCompiler(bool correlated) => _correlated = correlated;

    public static CompiledQuery Compile(EntityPageRequest request)
    {
        var sets = new SqliteQueryCompiler(correlated: false);
        var clauses = sets.CompileClauses(request);
        // Parameters are named by position, and both renderings add them in the same order: one list serves both.
        var probeClauses = new SqliteQueryCompiler(correlated: true).CompileClauses(request);
        var probe = Conjunction(probeClauses);
        // The box's few candidates drive; each is checked by look-ups through its key (else SQLite may walk every
        // member of the type, or read the whole key set of each other clause, per query).
        GeoCellQuery? cells = null;
        if (sets._geoBox is { } box)
        {
            clauses = clauses.Select((c, i) => c == box ? c : probeClauses[i]).ToList();
            var rest = Conjunction(probeClauses.Where((_, i) => clauses[i] != box).ToList());
            var named = ParameterName().Matches(rest).Select(m => m.Value).ToHashSet(StringComparer.Ordinal);
            cells = sets._cellBox is not { } cellBox ? null : cellBox with { Rest = rest, RestReadsRow = sets._readsEntityRow, RestParameters = sets._parameters.Where(p => named.Contains(p.Name)).ToList() };
        }
        var where = Conjunction(clauses);
        return new CompiledQuery(where, sets._parameters, sets._exact, probe, sets.Count(clauses, where), sets._geoBox is not null, sets.CountByAttribute(clauses),
            sets.KeyedPages(clauses, probeClauses), cells);
    }

    /// <summary>The bound of <see cref="KeyedPage.Estimate"/>: past it a key set counts as large.</summary>
    public const int EstimateBound = 1_024;

    private List<KeyedPage> KeyedPages(List<string> clauses, List<string> probeClauses)
    {
        var pages = new List<KeyedPage>();
        if (_readsEntityRow) return pages;
        for (var i = 0; i < clauses.Count; i++)
        {
            if (!_keySets.TryGetValue(clauses[i], out var keys)) continue;
            var unique = _uniqueKeySets.Contains(clauses[i]);
            var rest = Conjunction(probeClauses.Where((_, j) => j != i).ToList());
            var named = ParameterName().Matches(keys).Select(m => m.Value).ToHashSet(StringComparer.Ordinal);
            pages.Add(new KeyedPage(
                $"SELECT doc FROM entities WHERE rowid IN (SELECT e.ek FROM (SELECT {keys}{(unique ? "" : " GROUP BY 1")}) e WHERE {rest} ORDER BY e.ek LIMIT $limit OFFSET $offset) ORDER BY rowid",
                "SELECT COUNT(*) FROM (SELECT " + keys + " LIMIT $bound)", unique, _parameters.Where(p => named.Contains(p.Name)).ToList(),
                _typeClause is { } type && type.Sql == clauses[i] ? type.Iri : null));
        }
        return pages;
    }

    /// <summary>The names <see cref="Parameter"/> gives.</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"\$p\d+")]
    private static partial System.Text.RegularExpressions.Regex ParameterName();

    private ImpliedTypeCount? CountByAttribute(List<string> clauses)
    {
        if (_readsEntityRow || _typeClause is not { } type || _requiredAttributes.Count == 0) return null;
        var rest = clauses.Where(c => c != type.Sql).ToList();
        return rest.Count == clauses.Count - 1 ? new ImpliedTypeCount(type.Iri, _requiredAttributes.Distinct().ToList(), Count(rest, Conjunction(rest))) : null;
    }

    private static string Conjunction(List<string> clauses) => clauses.Count == 0 ? "1" : string.Join(" AND ", clauses);

    /// <summary>
    /// COUNT over the keys of the first clause that is a plain index-table membership (the type, usually), the other
    /// clauses checked against them; the entity table only when a clause needs its row or none qualifies.
    /// </summary>
    private string Count(List<string> clauses, string where)
    {
        var driver = clauses.FindIndex(_keySets.ContainsKey);
        if (_readsEntityRow || driver < 0) return $"SELECT COUNT(*) FROM entities e WHERE {where}";
        var rest = clauses.Where((_, i) => i != driver).ToList();
        // Keys of a unique index come once each; others are grouped (a sort, cheaper than DISTINCT's temporary B-tree).
        var keys = _keySets[clauses[driver]] + (_uniqueKeySets.Contains(clauses[driver]) ? "" : " GROUP BY 1");
        return $"SELECT COUNT(*) FROM (SELECT {keys}) e WHERE {Conjunction(rest)}";
    }

    /// <summary>
    /// "e has a row in <paramref name="table"/> (alias <paramref name="alias"/>) satisfying <paramref name="condition"/>":
    /// set membership, or a correlated look-up through <paramref name="entityIndex"/> when given (an index led by
    /// ek; without it SQLite may pick the condition's index and scan it for every entity).
    /// </summary>
    private string Member(string table, string alias, string? condition, string? entityIndex = null, bool unique = false)
    {
        if (_correlated)
            return $"EXISTS (SELECT 1 FROM {table} {alias}{(entityIndex is null ? "" : " INDEXED BY " + entityIndex)} WHERE {alias}.ek = e.ek{(condition is null ? "" : " AND (" + condition + ")")})";
        var keys = $"{alias}.ek AS ek FROM {table} {alias}{(condition is null ? "" : " WHERE " + condition)}";
        var sql = $"e.ek IN (SELECT {keys})";
        _keySets[sql] = keys;
        if (unique) _uniqueKeySets.Add(sql);
        return sql;
    }

    private List<string> CompileClauses(EntityPageRequest request)
    {
        var query = request.Query;
        var clauses = new List<string>();
        if (query.Selectors is { Count: > 0 } selectors) clauses.Add("(" + string.Join(" OR ", selectors.Select(Selector)) + ")");
        if (query.Ids is not null || query.IdPattern is not null) _readsEntityRow = true;
        if (query.Ids is { } ids) clauses.Add($"e.id IN ({string.Join(", ", ids.Select(id => Parameter(id)))})");
        // The regular expression runs inside SQLite through the evaluator's own matcher (same engine, same time limit).
        if (query.IdPattern is { } pattern) clauses.Add($"{RegexFunction}({Parameter(pattern)}, e.id)");
        if (query.Type is { } type)
        {
            clauses.Add(Type(type));
            if (type is TypeIs single) _typeClause = (clauses[^1], single.Iri);
        }
        if (query.ScopeQ is { } scope) clauses.Add(Scope(scope));
        if (query.Q is { } q && Q(q) is { } qSql) clauses.Add(qSql);
        if (query.Geo is { } geo) clauses.Add(Geo(geo));
        if (request.AnyOfAttributes is { Count: > 0 } attrs)
            clauses.Add(Member("entity_attributes", "a", $"a.attr IN (SELECT nid FROM names WHERE iri IN ({string.Join(", ", attrs.Select(a => Parameter(a)))}))"));
        return clauses;
    }

    private string Selector(EntitySelector selector)
    {
        var parts = new List<string>();
        if (selector.Ids is not null || selector.IdPattern is not null) _readsEntityRow = true;
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
        TypeIs t => Member("entity_types", "t", $"t.type = {NameId(t.Iri)}", unique: true),
        TypeAnd and => "(" + string.Join(" AND ", and.Operands.Select(Type)) + ")",
        TypeOr or => "(" + string.Join(" OR ", or.Operands.Select(Type)) + ")",
        _ => throw new ArgumentOutOfRangeException(nameof(expr)),
    };

    private string Scope(ScopeExpr expr) => expr switch
    {
        // A "+" level: the levels before it as a descendant range (a necessary condition); the evaluator checks the rest.
        ScopeIs { HasWildcard: true } w => Inexact(Scope(new ScopeIs(w.FixedPrefix, IncludeDescendants: true))),
        ScopeIs { Scope: "", IncludeDescendants: true } => Member("entity_scopes", "s", null, "ix_entity_scopes_entity"),
        // Descendants by a byte range ('/' + 1 is '0'), which the (scope, ek) index serves; LIKE would ignore case.
        ScopeIs { IncludeDescendants: true } s =>
            Member("entity_scopes", "s", $"s.scope = {Parameter(s.Scope)} OR (s.scope >= {Parameter(s.Scope + "/")} AND s.scope < {Parameter(s.Scope + "0")})", "ix_entity_scopes_entity"),
        ScopeIs s => Member("entity_scopes", "s", $"s.scope = {Parameter(s.Scope)}", unique: true),
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
                _optional++;
                var alternatives = or.Operands.Select(Q).ToList();
                _optional--;
                if (alternatives.Any(a => a is null)) return null;
                return "(" + string.Join(" OR ", alternatives) + ")";
            case QExists { Negated: false } exists:
                if (!exists.Path.IsTopLevel) _exact = false;
                return HasAttribute(exists.Path.Attribute);
            case QExists { Negated: true } missing:
                if (missing.Path.IsTopLevel)
                {
                    _optional++;
                    var has = HasAttribute(missing.Path.Attribute);
                    _optional--;
                    return "NOT " + has;
                }
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
        if (_optional == 0) _requiredAttributes.Add(attribute);
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
            return Member("attribute_values", "v", $"v.attr = {NameId(attribute)} AND {numeric}", SqliteValueKeySchema.EntityKey);

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
            return Member("attribute_values", "v", $"v.attr = {NameId(attribute)} AND v.str IN ({string.Join(", ", strings.Distinct().Select(s => Parameter(s)))})", SqliteValueKeySchema.EntityKey);
        return HasAttribute(attribute);
    }

    private string HasAttribute(string attribute)
    {
        if (_optional == 0) _requiredAttributes.Add(attribute);
        return Member("entity_attributes", "a", $"a.attr = {NameId(attribute)}", unique: true);
    }

    /// <summary>The index tables hold a name's id (<see cref="SqliteNameSchema"/>); SQLite looks it up once per statement.</summary>
    private string NameId(string iri) => SqliteNameSchema.IdOf(Parameter(iri));

    /// <summary>
    /// Bounding-box pre-filter on the R*Tree; the exact relation is checked in memory with NetTopologySuite. Always set
    /// membership: the R*Tree is searched once by box, not once per entity. Geometries are planar lon/lat boxes (an uncut
    /// one across the antimeridian spans the long way round, as the evaluator reads it); only near's distance wraps: its
    /// box across ±180° is searched as two, and one that reaches a pole over every longitude.
    /// </summary>
    private string Geo(GeoQuery geo)
    {
        _exact = false;
        var property = NameId(geo.GeoProperty);
        var inProperty = $"e.ek IN (SELECT g.ek FROM entity_geometries g WHERE g.attr = {property}";
        if (geo.Relation == GeoRelation.Disjoint || (geo.Relation == GeoRelation.Near && geo.MaxDistance is null))
            return inProperty + ")";
        var envelope = geo.Geometry.EnvelopeInternal;
        double minX = envelope.MinX, maxX = envelope.MaxX, minY = envelope.MinY, maxY = envelope.MaxY;
        if (geo.Relation == GeoRelation.Near)
        {
            // Widen by the distance: 1° of latitude is at least 110.5 km; longitude degrees shrink with cos(latitude).
            var dLat = geo.MaxDistance!.Value / 110_000.0;
            var maxAbsLat = Math.Max(Math.Abs(minY - dLat), Math.Abs(maxY + dLat));
            minY -= dLat; maxY += dLat;
            if (maxAbsLat >= 89.9) (minX, maxX) = (-180, 180); // reaches a pole: every longitude, the latitudes still bound it
            else
            {
                var dLon = geo.MaxDistance.Value / (110_000.0 * Math.Cos(maxAbsLat * Math.PI / 180));
                minX -= dLon; maxX += dLon;
                if (maxX - minX >= 360) (minX, maxX) = (-180, 180);
            }
        }
        var distance = geo is { Relation: GeoRelation.Near, MaxDistance: { } max, Geometry: NetTopologySuite.Geometries.Point point }
            ? $" AND {BoxDistanceFunction}({Parameter(point.X)}, {Parameter(point.Y)}, min_x, max_x, min_y, max_y) <= {Parameter(max)}"
            : "";
        string Box(double west, double east) =>
            $"SELECT rid FROM entity_bbox WHERE max_x >= {Parameter(west)} AND min_x <= {Parameter(east)} AND max_y >= {Parameter(minY)} AND min_y <= {Parameter(maxY)}{distance}";
        // A near box across the antimeridian is two boxes, one each side of it (the distance bound holds for either).
        var wraps = minX < -180 || maxX > 180;
        var boxes = minX < -180 ? $"{Box(minX + 360, 180)} UNION ALL {Box(-180, maxX)}"
            : maxX > 180 ? $"{Box(minX, 180)} UNION ALL {Box(-180, maxX - 360)}"
            : Box(minX, maxX);
        var boxed = inProperty + $" AND g.rid IN ({boxes}))";
        if (!_correlated && _geoBox is null)
        {
            _geoBox = boxed;
            // The cell walk reads one box; two go through the R*Tree.
            if (!wraps)
                _cellBox = new GeoCellQuery(geo.GeoProperty, minX, maxX, minY, maxY,
                    geo is { Relation: GeoRelation.Near, MaxDistance: { } near, Geometry: NetTopologySuite.Geometries.Point at } ? (at.X, at.Y, near) : null, "1");
        }
        return boxed;
    }

    /// <summary>
    /// A lower bound, in metres, of the great-circle distance from the point (<paramref name="lon"/>, <paramref name="lat"/>)
    /// to anything inside the box: the distance to the box's clamped point less a bound of the distance between any two
    /// points of the box (a meridian arc over its latitudes plus an equator arc over its longitudes; haversine is a
    /// metric). The evaluator measures "near" as the haversine distance to a point of the geometry, which lies in its box:
    /// a candidate this bound puts beyond maxDistance cannot match. For a point (a box of a float's rounding) the bound
    /// is within a metre or two of the exact distance.
    /// </summary>
    public static double BoxDistanceMetres(double lon, double lat, double minX, double maxX, double minY, double maxY)
    {
        var clamped = GeoEvaluator.Haversine(lon, lat, Math.Clamp(lon, minX, maxX), Math.Clamp(lat, minY, maxY));
        return clamped - MetresPerDegree * ((maxY - minY) + (maxX - minX));
    }

    private static readonly double MetresPerDegree = GeoEvaluator.Haversine(0, 0, 0, 1);
}
