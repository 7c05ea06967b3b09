using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;

namespace Kontext.Ngsi.Temporal;

/// <summary>The aggregation functions of clause 4.5.19 (aggrMethods).</summary>
public enum AggregationMethod { TotalCount, DistinctCount, Sum, Avg, Min, Max, StdDev, SumSq }

/// <summary>One value of one attribute at one time (Deleted instances are not samples).</summary>
public readonly record struct Sample(JsonNode? Value, DateTimeOffset Time);

/// <summary>One aggregated value over the period [Start, End).</summary>
public sealed record AggregatedValue(JsonNode? Value, DateTimeOffset Start, DateTimeOffset End);

/// <summary>
/// The Aggregated Temporal Representation's arithmetic (clause 4.5.19). Periods are [start + k·d, start + (k+1)·d)
/// from the window start (timeAt for after/between, else the first sample); aggrPeriodDuration P0D (or absent) is one
/// period over the whole window. A period without samples yields nothing. Numeric methods read numbers (booleans as 1/0)
/// and skip other values; min and max fall back to ordinal string order when a period has no number; stddev is the
/// sample standard deviation (n − 1; 0 for one sample); distinctCount compares JSON values (numbers by value).
/// </summary>
public static class Aggregation
{
    private static readonly Dictionary<string, AggregationMethod> Names = new(StringComparer.Ordinal)
    {
        ["totalCount"] = AggregationMethod.TotalCount, ["distinctCount"] = AggregationMethod.DistinctCount,
        ["sum"] = AggregationMethod.Sum, ["avg"] = AggregationMethod.Avg, ["min"] = AggregationMethod.Min,
        ["max"] = AggregationMethod.Max, ["stddev"] = AggregationMethod.StdDev, ["sumsq"] = AggregationMethod.SumSq,
    };

    public static string Name(AggregationMethod method) => Names.First(n => n.Value == method).Key;

    public static IReadOnlyList<AggregationMethod> ParseMethods(IEnumerable<string> names)
    {
        var methods = new List<AggregationMethod>();
        foreach (var name in names)
        {
            if (!Names.TryGetValue(name.Trim(), out var method))
                throw NgsiException.BadRequestData($"aggrMethods: unknown aggregation method '{name}' (totalCount, distinctCount, sum, avg, min, max, stddev, sumsq)");
            if (!methods.Contains(method)) methods.Add(method);
        }
        if (methods.Count == 0) throw NgsiException.BadRequestData("options=aggregatedValues needs aggrMethods");
        return methods;
    }

    /// <summary>Aggregates samples (any order) per period; <paramref name="windowStart"/>/<paramref name="windowEnd"/> null mean first/last sample.</summary>
    public static Dictionary<AggregationMethod, List<AggregatedValue>> Aggregate(
        IEnumerable<Sample> samples, IReadOnlyList<AggregationMethod> methods, IsoDuration period, DateTimeOffset? windowStart, DateTimeOffset? windowEnd)
    {
        var result = methods.ToDictionary(m => m, _ => new List<AggregatedValue>());
        var sorted = samples.OrderBy(s => s.Time).ToList();
        if (sorted.Count == 0) return result;
        var start = windowStart ?? sorted[0].Time;
        sorted.RemoveAll(s => s.Time < start || (windowEnd is { } e && s.Time >= e));
        if (sorted.Count == 0) return result;

        if (period.IsZero)
        {
            AddPeriod(result, methods, sorted, start, windowEnd ?? sorted[^1].Time);
            return result;
        }
        var index = 0;
        long k = 0;
        while (index < sorted.Count)
        {
            // Jump straight to the period of the next sample (fixed spans); calendar spans step period by period.
            if (period.Years == 0 && period.Months == 0)
                k = Math.Max(k, (sorted[index].Time - start).Ticks / period.Time.Ticks);
            var (periodStart, periodEnd) = (Boundary(start, period, k), Boundary(start, period, k + 1));
            if (periodEnd <= periodStart) throw NgsiException.BadRequestData("aggrPeriodDuration must be positive");
            var members = new List<Sample>();
            while (index < sorted.Count && sorted[index].Time < periodEnd)
            {
                if (sorted[index].Time >= periodStart) members.Add(sorted[index]);
                index++;
            }
            if (members.Count > 0) AddPeriod(result, methods, members, periodStart, periodEnd);
            k++;
        }
        return result;
    }

    public static DateTimeOffset Boundary(DateTimeOffset start, IsoDuration period, long k) =>
        start.ToUniversalTime().AddYears(checked((int)(period.Years * k))).AddMonths(checked((int)(period.Months * k))).Add(TimeSpan.FromTicks(checked(period.Time.Ticks * k)));

    private static void AddPeriod(Dictionary<AggregationMethod, List<AggregatedValue>> result, IReadOnlyList<AggregationMethod> methods,
        List<Sample> members, DateTimeOffset start, DateTimeOffset end)
    {
        var figures = PeriodFigures.Of(members);
        foreach (var method in methods)
        {
            if (figures.Value(method) is { } value) result[method].Add(new AggregatedValue(value, start, end));
        }
    }

    /// <summary>
    /// Turns the per-period figures a store computed (<see cref="ITemporalStore.AggregateAsync"/>) into the same
    /// series the in-memory path yields: period k of a series spans [start + k·d, start + (k+1)·d) from the window start
    /// (or the series' first sample); with a zero period the one period ends at the window end (or the last sample).
    /// </summary>
    public static IReadOnlyList<AggregatedSeries> FromStatistics(IEnumerable<PeriodStatistics> rows, IReadOnlyList<AggregationMethod> methods,
        IsoDuration period, DateTimeOffset? windowStart, DateTimeOffset? windowEnd)
    {
        var series = new List<AggregatedSeries>();
        foreach (var group in rows.GroupBy(r => (r.EntityId, r.Attribute, r.DatasetId)))
        {
            var values = methods.ToDictionary(m => m, _ => new List<AggregatedValue>());
            var periods = group.OrderBy(r => r.Period).ToList();
            var start = windowStart ?? periods.Min(r => r.FirstSample);
            var last = periods.Max(r => r.LastSample);
            foreach (var row in periods)
            {
                var (periodStart, periodEnd) = period.IsZero
                    ? (start, windowEnd ?? last)
                    : (Boundary(start, period, row.Period), Boundary(start, period, row.Period + 1));
                foreach (var method in methods)
                {
                    if (row.Figures.Value(method) is { } value) values[method].Add(new AggregatedValue(value, periodStart, periodEnd));
                }
            }
            var latest = periods[^1]; // periods follow time, so the last one holds the series' latest sample
            series.Add(new AggregatedSeries(latest.EntityId, latest.Attribute, latest.DatasetId, latest.AttributeType, values));
        }
        return series;
    }

    /// <summary>A number, or a boolean as 1/0; null for anything else.</summary>
    public static double? Number(JsonNode? node)
    {
        if (node is not JsonValue v) return null;
        return v.GetValueKind() switch
        {
            // Read where the number is (a request's or stored element): no JSON text of it is written and parsed per sample.
            JsonValueKind.Number => JsonNumbers.TryGetDouble(v, out var number) ? number : null,
            JsonValueKind.True => 1,
            JsonValueKind.False => 0,
            _ => null,
        };
    }

    /// <summary>What distinctCount compares: JSON numbers by value (1 equals 1.0), anything else by its JSON text.</summary>
    internal static (double? Number, string? Text) DistinctIdentity(JsonNode? payload) =>
        payload is JsonValue v && v.GetValueKind() == JsonValueKind.Number ? (Number(v), null) : (null, "j:" + (payload?.ToJsonString() ?? "null"));

    internal static string DistinctKey(JsonNode? payload) => DistinctIdentity(payload) switch
    {
        ({ } number, _) => "n:" + number.ToString("R", CultureInfo.InvariantCulture),
        (_, var text) => text!,
    };
}

/// <summary>
/// What every aggregation method of one period derives from: the sample count, the distinct-value count, and over the
/// numeric samples (booleans as 1/0) their count, sum, sum of squares, minimum and maximum, with the ordinal minimum and
/// maximum of the string samples for min/max of a period without numbers. Stores compute these natively; the in-memory
/// path from samples; both become values here, so the two paths cannot disagree on the arithmetic.
/// </summary>
public sealed record PeriodFigures(long Count, long Distinct, long Numbers, double Sum, double SumOfSquares,
    double? MinNumber, double? MaxNumber, string? MinText, string? MaxText)
{
    public static PeriodFigures Of(IReadOnlyList<Sample> members)
    {
        long numbers = 0;
        double sum = 0, squares = 0;
        double? min = null, max = null;
        string? minText = null, maxText = null;
        var distinct = new HashSet<string>(StringComparer.Ordinal);
        foreach (var sample in members)
        {
            distinct.Add(Aggregation.DistinctKey(sample.Value));
            if (Aggregation.Number(sample.Value) is { } x)
            {
                numbers++;
                sum += x;
                squares += x * x;
                min = min is null || x < min ? x : min;
                max = max is null || x > max ? x : max;
            }
            else if (sample.Value is JsonValue v && v.TryGetValue<string>(out var text))
            {
                if (minText is null || string.CompareOrdinal(text, minText) < 0) minText = text;
                if (maxText is null || string.CompareOrdinal(text, maxText) > 0) maxText = text;
            }
        }
        return new PeriodFigures(members.Count, distinct.Count, numbers, sum, squares, min, max, minText, maxText);
    }

    /// <summary>
    /// The figures of two disjoint sets of samples taken together (pre-aggregated buckets). Distinct counts do not add
    /// up, so the sum is 0: callers that need distinctCount aggregate the samples instead.
    /// </summary>
    public PeriodFigures Plus(PeriodFigures other) => new(Count + other.Count, 0, Numbers + other.Numbers, Sum + other.Sum,
        SumOfSquares + other.SumOfSquares, Lesser(MinNumber, other.MinNumber), Greater(MaxNumber, other.MaxNumber),
        Lesser(MinText, other.MinText), Greater(MaxText, other.MaxText));

    private static double? Lesser(double? a, double? b) => a is null ? b : b is null ? a : Math.Min(a.Value, b.Value);
    private static double? Greater(double? a, double? b) => a is null ? b : b is null ? a : Math.Max(a.Value, b.Value);
    private static string? Lesser(string? a, string? b) => a is null ? b : b is null ? a : string.CompareOrdinal(a, b) <= 0 ? a : b;
    private static string? Greater(string? a, string? b) => a is null ? b : b is null ? a : string.CompareOrdinal(a, b) >= 0 ? a : b;

    /// <summary>The method's value for this period; null when the method has none (no numbers for sum, nothing comparable for min).</summary>
    public JsonNode? Value(AggregationMethod method) => method switch
    {
        AggregationMethod.TotalCount => Count,
        AggregationMethod.DistinctCount => Distinct,
        AggregationMethod.Sum when Numbers > 0 => Sum,
        AggregationMethod.Avg when Numbers > 0 => Sum / Numbers,
        AggregationMethod.SumSq when Numbers > 0 => SumOfSquares,
        // Sample standard deviation from the sums (n − 1; 0 for one sample), clamped against rounding below zero.
        AggregationMethod.StdDev when Numbers > 0 => Numbers < 2 ? 0 : Math.Sqrt(Math.Max(0, (SumOfSquares - Sum * Sum / Numbers) / (Numbers - 1))),
        AggregationMethod.Min when Numbers > 0 => MinNumber,
        AggregationMethod.Max when Numbers > 0 => MaxNumber,
        AggregationMethod.Min => MinText,
        AggregationMethod.Max => MaxText,
        _ => null,
    };
}

/// <summary>
/// What one stored instance contributes to aggregations, computed once when it is written so stores aggregate plain
/// fields instead of parsing documents: the attribute type, the numeric sample (numbers, booleans as 1/0), the text
/// sample, and the distinct key: the number itself for JSON numbers (so 1 equals 1.0), else the payload's JSON text.
/// </summary>
public sealed record SampleFields(string AttributeType, double? Number, string? Text, double? DistinctNumber, string? DistinctText)
{
    public static SampleFields Of(JsonObject instance)
    {
        var payload = Attr.Payload(instance);
        var text = payload is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        var (distinctNumber, distinctText) = Aggregation.DistinctIdentity(payload);
        return new SampleFields(Attr.Type(instance), Aggregation.Number(payload), text, distinctNumber, distinctText);
    }
}

/// <summary>The aggregated values of one attribute (one datasetId) of one entity, per method in period order.</summary>
public sealed record AggregatedSeries(string EntityId, string Attribute, string? DatasetId, string AttributeType,
    IReadOnlyDictionary<AggregationMethod, List<AggregatedValue>> Values);
