using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Errors;

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
                throw NgsiException.BadRequestData($"Unknown aggregation method '{name}' (totalCount, distinctCount, sum, avg, min, max, stddev, sumsq)");
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
        var numbers = new List<double>();
        var strings = new List<string>();
        foreach (var sample in members)
        {
            if (Number(sample.Value) is { } x) numbers.Add(x);
            else if (sample.Value is JsonValue v && v.TryGetValue<string>(out var s)) strings.Add(s);
        }
        foreach (var method in methods)
        {
            JsonNode? value = method switch
            {
                AggregationMethod.TotalCount => members.Count,
                AggregationMethod.DistinctCount => members.Select(m => DistinctKey(m.Value)).Distinct(StringComparer.Ordinal).Count(),
                AggregationMethod.Sum when numbers.Count > 0 => numbers.Sum(),
                AggregationMethod.Avg when numbers.Count > 0 => numbers.Sum() / numbers.Count,
                AggregationMethod.SumSq when numbers.Count > 0 => numbers.Sum(x => x * x),
                AggregationMethod.StdDev when numbers.Count > 0 => StdDev(numbers),
                AggregationMethod.Min when numbers.Count > 0 => numbers.Min(),
                AggregationMethod.Max when numbers.Count > 0 => numbers.Max(),
                AggregationMethod.Min when strings.Count > 0 => strings.Min(StringComparer.Ordinal),
                AggregationMethod.Max when strings.Count > 0 => strings.Max(StringComparer.Ordinal),
                _ => null,
            };
            if (value is not null) result[method].Add(new AggregatedValue(value, start, end));
        }
    }

    private static double StdDev(List<double> numbers)
    {
        if (numbers.Count < 2) return 0;
        var mean = numbers.Sum() / numbers.Count;
        return Math.Sqrt(numbers.Sum(x => (x - mean) * (x - mean)) / (numbers.Count - 1));
    }

    /// <summary>A number, or a boolean as 1/0; null for anything else.</summary>
    public static double? Number(JsonNode? node)
    {
        if (node is not JsonValue v) return null;
        return v.GetValueKind() switch
        {
            JsonValueKind.Number => double.Parse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture),
            JsonValueKind.True => 1,
            JsonValueKind.False => 0,
            _ => null,
        };
    }

    private static string DistinctKey(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.Number
            ? "n:" + Number(v)!.Value.ToString("R", CultureInfo.InvariantCulture)
            : "j:" + (node?.ToJsonString() ?? "null");
}
