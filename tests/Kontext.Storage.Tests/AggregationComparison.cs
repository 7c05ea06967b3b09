using System.Text.Json.Nodes;
using Kontext.Ngsi.Storage;
using Kontext.Ngsi.Temporal;

namespace Kontext.Storage.Tests;

/// <summary>How the aggregation differentials compare a store's answer with the in-memory computation.</summary>
internal static class AggregationComparison
{
    public static string Key(AggregatedSeries s) => $"{s.EntityId} {s.Attribute} {s.DatasetId}";

    /// <summary>Equal JSON, numbers within rounding: sums may be added in another order, and stddev is a square root of a difference of sums.</summary>
    public static bool Same(JsonNode? a, JsonNode? b)
    {
        var (x, y) = (Aggregation.Number(a), Aggregation.Number(b));
        if (x is not null && y is not null) return Math.Abs(x.Value - y.Value) <= 1e-9 * Math.Max(1, Math.Max(Math.Abs(x.Value), Math.Abs(y.Value)));
        return JsonNode.DeepEquals(a, b);
    }
}
