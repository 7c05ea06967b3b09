namespace Kontext.Ngsi.Query;

/// <summary>The attributes a q expression names (expanded IRIs), for operations that restrict what a q may look at.</summary>
public static class QAttributes
{
    public static IEnumerable<string> Of(QExpr expr) => expr switch
    {
        QAnd and => and.Operands.SelectMany(Of),
        QOr or => or.Operands.SelectMany(Of),
        QExists exists => [exists.Path.Attribute],
        QComparison comparison => [comparison.Path.Attribute],
        _ => [],
    };
}
