namespace Kontext.Ngsi.Query;

// The NGSI-LD q-language (clause 4.9) as plain records: stores compile these to SQL/Mongo and the
// EntityMatcher evaluates them in memory, so there is no behaviour here, only data with value equality.

/// <summary>A q-language expression.</summary>
public abstract record QExpr;

/// <summary><c>a;b;c</c>: every operand holds.</summary>
public sealed record QAnd(EquatableArray<QExpr> Operands) : QExpr;

/// <summary><c>a|b|c</c>: at least one operand holds.</summary>
public sealed record QOr(EquatableArray<QExpr> Operands) : QExpr;

/// <summary><c>a</c> (the path exists) or <c>!a</c> (it does not).</summary>
public sealed record QExists(QPath Path, bool Negated) : QExpr;

/// <summary><c>path op value</c>.</summary>
public sealed record QComparison(QPath Path, QOp Op, QValue Value) : QExpr;

public enum QOp { Equal, NotEqual, Greater, GreaterOrEqual, Less, LessOrEqual, Matches, NotMatches }

/// <summary>
/// Where a comparison looks. <paramref name="Attribute"/> is the expanded attribute IRI;
/// <paramref name="Members"/> walks into sub-attributes (expanded IRIs) and may end with one of the
/// <see cref="QPath.MetaMembers"/> (kept verbatim); <paramref name="Compound"/> walks into the attribute's
/// JSON value by member name (JSON values are not JSON-LD expanded, so neither are these keys), or, on a
/// LanguageProperty, names the language (<c>*</c>: any). <paramref name="Linked"/> (<c>rel{path}</c>) looks into
/// the entities the Relationship links to: such a path is resolved against the store before evaluation
/// (<see cref="LinkedQuery"/>), never evaluated on one entity.
/// </summary>
public sealed record QPath(string Attribute, EquatableArray<string> Members, EquatableArray<string> Compound, QLinkedPath? Linked = null)
{
    /// <summary>The attribute's own payload: no sub-attribute, no compound member, no linked entity.</summary>
    public bool IsTopLevel => Members.Count == 0 && Compound.Count == 0 && Linked is null;

    /// <summary>Members of an attribute instance that a path may end on instead of a sub-attribute.</summary>
    public static readonly IReadOnlySet<string> MetaMembers = new HashSet<string>(StringComparer.Ordinal)
    {
        "observedAt", "unitCode", "datasetId", "createdAt", "modifiedAt",
    };

    public QPath(string attribute) : this(attribute, EquatableArray<string>.Empty, EquatableArray<string>.Empty) { }
}

/// <summary>
/// <c>rel{Type1,Type2:path}</c> (clause 4.9): <paramref name="Path"/> on the entities the Relationship links to, only those
/// of one of <paramref name="Types"/> (expanded IRIs) when given.
/// </summary>
public sealed record QLinkedPath(EquatableArray<string> Types, QPath Path);

/// <summary>The right-hand side of a comparison.</summary>
public abstract record QValue;

/// <summary><c>low..high</c>, inclusive at both ends.</summary>
public sealed record QRange(QLiteral Low, QLiteral High) : QValue;

/// <summary><c>a,b,c</c>: equal to any of them.</summary>
public sealed record QValueList(EquatableArray<QLiteral> Items) : QValue;

/// <summary>A single value.</summary>
public abstract record QLiteral : QValue;

public sealed record QNumber(double Value) : QLiteral;

/// <summary>
/// A string (quoted, or a bare word). <paramref name="VocabIri"/> is the text expanded as a term with the
/// query's context, which is what a VocabProperty stores and so what it is compared against.
/// </summary>
public sealed record QString(string Value, string VocabIri) : QLiteral;

/// <summary>An unquoted URI, e.g. a Relationship target. Compared as a string; expanded for VocabProperties.</summary>
public sealed record QUri(string Value, string VocabIri) : QLiteral;

public sealed record QBoolean(bool Value) : QLiteral;

/// <summary>An ISO 8601 date-time; compared as an instant against date-time strings.</summary>
public sealed record QDateTime(DateTimeOffset Value) : QLiteral;

/// <summary>An ISO 8601 date (yyyy-MM-dd); compared against date strings.</summary>
public sealed record QDate(DateOnly Value) : QLiteral;

/// <summary>An ISO 8601 time (HH:mm[:ss[.fff]][Z]); compared against time strings.</summary>
public sealed record QTime(TimeOnly Value) : QLiteral;

/// <summary>The regular expression of <c>~=</c> and <c>!~=</c>, validated when parsed.</summary>
public sealed record QPattern(string Pattern) : QValue;
