using System.Globalization;
using System.Text;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;

namespace Kontext.Ngsi.Query;

/// <summary>
/// Writes a q-language expression back as text, with IRIs compacted by the given context, such that
/// <c>QLanguage.Parse(QRenderer.Render(q, ctx), ctx) == q</c>. Used to show a subscription's q and in tests.
/// </summary>
public static class QRenderer
{
    public static string Render(QExpr expr, JsonLdContext context)
    {
        var sb = new StringBuilder();
        Write(expr, context, sb);
        return sb.ToString();
    }

    private static void Write(QExpr expr, JsonLdContext context, StringBuilder sb)
    {
        switch (expr)
        {
            case QAnd and:
                WriteJoined(and.Operands, ';', o => o is QOr or QAnd, context, sb);
                break;
            case QOr or:
                WriteJoined(or.Operands, '|', o => o is QOr, context, sb);
                break;
            case QExists exists:
                if (exists.Negated) sb.Append('!');
                WritePath(exists.Path, context, sb);
                break;
            case QComparison comparison:
                WritePath(comparison.Path, context, sb);
                sb.Append(Operator(comparison.Op));
                WriteValue(comparison.Value, sb);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(expr), expr, "unknown q expression");
        }
    }

    private static void WriteJoined(IEnumerable<QExpr> operands, char separator, Func<QExpr, bool> needsParentheses, JsonLdContext context, StringBuilder sb)
    {
        var first = true;
        foreach (var operand in operands)
        {
            if (!first) sb.Append(separator);
            first = false;
            var parenthesize = needsParentheses(operand);
            if (parenthesize) sb.Append('(');
            Write(operand, context, sb);
            if (parenthesize) sb.Append(')');
        }
    }

    private static void WritePath(QPath path, JsonLdContext context, StringBuilder sb)
    {
        sb.Append(context.CompactIri(path.Attribute));
        foreach (var member in path.Members)
            sb.Append('.').Append(QPath.MetaMembers.Contains(member) ? member : context.CompactIri(member));
        foreach (var key in path.Compound) sb.Append('[').Append(key).Append(']');
    }

    public static string Operator(QOp op) => op switch
    {
        QOp.Equal => "==",
        QOp.NotEqual => "!=",
        QOp.Greater => ">",
        QOp.GreaterOrEqual => ">=",
        QOp.Less => "<",
        QOp.LessOrEqual => "<=",
        QOp.Matches => "~=",
        QOp.NotMatches => "!~=",
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    private static void WriteValue(QValue value, StringBuilder sb)
    {
        switch (value)
        {
            case QRange range:
                WriteLiteral(range.Low, sb);
                sb.Append("..");
                WriteLiteral(range.High, sb);
                break;
            case QValueList list:
                for (var i = 0; i < list.Items.Count; i++)
                {
                    if (i > 0) sb.Append(',');
                    WriteLiteral(list.Items[i], sb);
                }
                break;
            case QPattern pattern:
                WriteQuoted(pattern.Pattern, sb);
                break;
            case QLiteral literal:
                WriteLiteral(literal, sb);
                break;
        }
    }

    private static void WriteLiteral(QLiteral literal, StringBuilder sb)
    {
        switch (literal)
        {
            case QNumber n: sb.Append(n.Value.ToString("R", CultureInfo.InvariantCulture)); break;
            case QString s: WriteQuoted(s.Value, sb); break;
            case QUri u: sb.Append(u.Value); break;
            case QBoolean b: sb.Append(b.Value ? "true" : "false"); break;
            case QDateTime d: sb.Append(Validate.Format(d.Value)); break;
            case QDate d: sb.Append(d.Value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)); break;
            case QTime t: sb.Append(t.Value.ToString("HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture).TrimEnd('.')); break;
        }
    }

    private static void WriteQuoted(string text, StringBuilder sb)
    {
        sb.Append('"');
        foreach (var c in text)
        {
            if (c is '"' or '\\') sb.Append('\\');
            sb.Append(c);
        }
        sb.Append('"');
    }
}
