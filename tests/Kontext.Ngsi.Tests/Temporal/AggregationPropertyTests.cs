using System.Text.Json.Nodes;
using CsCheck;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Temporal;

namespace Kontext.Ngsi.Tests.Temporal;

/// <summary>
/// The aggregation of clause 4.5.19 against a straightforward computation over random data: every period
/// [start + k·d, start + (k+1)·d) that holds samples, none for empty periods, boundaries half-open.
/// </summary>
internal static class DoubleText
{
    public static double ParseDouble(this string text) => double.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
}

public sealed class AggregationPropertyTests
{

    private static readonly DateTimeOffset Origin = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly AggregationMethod[] All = Enum.GetValues<AggregationMethod>();

    // Sample times in whole minutes over ~2 days, many on exact period boundaries (period lengths divide 60 or 1440).
    private static readonly Gen<(List<(int Minute, int Value)> Samples, int PeriodMinutes, int StartOffset)> Cases =
        from samples in Gen.Select(Gen.Int[0, 3000], Gen.Int[-50, 50]).List[0, 60]
        from period in Gen.OneOf(Gen.Const(1), Gen.Const(15), Gen.Const(60), Gen.Const(90), Gen.Const(1440))
        from start in Gen.Int[-100, 100]
        select (samples, period, start);

    [Fact]
    public void Aggregates_match_a_direct_computation_per_period()
    {
        Cases.Sample(c =>
        {
            var start = Origin.AddMinutes(c.StartOffset);
            var samples = c.Samples.Select(s => new Sample(JsonValue.Create(s.Value), Origin.AddMinutes(s.Minute))).ToList();
            var result = Aggregation.Aggregate(samples, All, IsoDuration.Parse($"PT{c.PeriodMinutes}M"), start, null);

            var expected = c.Samples.Where(s => s.Minute >= c.StartOffset)
                .GroupBy(s => (int)Math.Floor((s.Minute - c.StartOffset) / (double)c.PeriodMinutes))
                .OrderBy(g => g.Key).ToList();
            foreach (var method in All) result[method].Should().HaveCount(expected.Count, "{0} has one entry per non-empty period", method);
            for (var p = 0; p < expected.Count; p++)
            {
                var values = expected[p].Select(s => (double)s.Value).ToList();
                var periodStart = start.AddMinutes(expected[p].Key * c.PeriodMinutes);
                var mean = values.Average();
                var check = new Dictionary<AggregationMethod, double>
                {
                    [AggregationMethod.TotalCount] = values.Count,
                    [AggregationMethod.DistinctCount] = values.Distinct().Count(),
                    [AggregationMethod.Sum] = values.Sum(),
                    [AggregationMethod.Avg] = mean,
                    [AggregationMethod.Min] = values.Min(),
                    [AggregationMethod.Max] = values.Max(),
                    [AggregationMethod.SumSq] = values.Sum(v => v * v),
                    [AggregationMethod.StdDev] = values.Count < 2 ? 0 : Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1)),
                };
                foreach (var (method, value) in check)
                {
                    var entry = result[method][p];
                    entry.Start.Should().Be(periodStart);
                    entry.End.Should().Be(periodStart.AddMinutes(c.PeriodMinutes));
                    entry.Value!.ToJsonString().ParseDouble().Should().BeApproximately(value, 1e-9, "{0} of period {1}", method, p);
                }
            }
        }, iter: 300);
    }

    [Fact]
    public void Whole_window_is_one_period_and_samples_outside_the_window_are_ignored()
    {
        var samples = new[] { 5, 10, 20, 30 }.Select(m => new Sample(JsonValue.Create(m), Origin.AddMinutes(m))).ToList();
        var result = Aggregation.Aggregate(samples, [AggregationMethod.Sum, AggregationMethod.TotalCount], IsoDuration.Zero, Origin.AddMinutes(10), Origin.AddMinutes(30));
        result[AggregationMethod.Sum].Should().ContainSingle().Which.Value!.ToJsonString().ParseDouble().Should().Be(30);
        result[AggregationMethod.Sum][0].Start.Should().Be(Origin.AddMinutes(10));
        result[AggregationMethod.Sum][0].End.Should().Be(Origin.AddMinutes(30));
    }

    [Fact]
    public void Calendar_months_and_strings_and_booleans()
    {
        var samples = new[] { (0, "b"), (40, "a"), (70, "c") }.Select(s => new Sample(JsonValue.Create(s.Item2), Origin.AddDays(s.Item1))).ToList();
        var result = Aggregation.Aggregate(samples, [AggregationMethod.Min, AggregationMethod.Max, AggregationMethod.Sum], IsoDuration.Parse("P1M"), Origin, null);
        result[AggregationMethod.Min].Select(v => (v.Value!.GetValue<string>(), v.Start.Month)).Should().Equal(("b", 1), ("a", 2), ("c", 3));
        result[AggregationMethod.Sum].Should().BeEmpty();
        var flags = new[] { true, false, true }.Select((b, i) => new Sample(JsonValue.Create(b), Origin.AddMinutes(i))).ToList();
        Aggregation.Aggregate(flags, [AggregationMethod.Sum], IsoDuration.Zero, null, null)[AggregationMethod.Sum].Single().Value!.ToJsonString().ParseDouble().Should().Be(2);
    }

    [Theory]
    [InlineData("PT1H", 0, 0, 3600)]
    [InlineData("P1DT2H", 0, 0, 93600)]
    [InlineData("P2W", 0, 0, 1209600)]
    [InlineData("P1Y2M", 1, 2, 0)]
    [InlineData("PT0.5S", 0, 0, 0.5)]
    [InlineData("P0D", 0, 0, 0)]
    public void Iso_durations_parse(string text, int years, int months, double seconds)
    {
        var duration = IsoDuration.Parse(text);
        (duration.Years, duration.Months, duration.Time.TotalSeconds).Should().Be((years, months, seconds));
    }

    [Theory]
    [InlineData("1H")]
    [InlineData("P")]
    [InlineData("PT")]
    [InlineData("P1H")]
    [InlineData("PT1D")]
    public void Bad_durations_are_rejected(string text) =>
        FluentActions.Invoking(() => IsoDuration.Parse(text)).Should().Throw<NgsiException>();

    [Fact]
    public void Unknown_methods_are_rejected() =>
        FluentActions.Invoking(() => Aggregation.ParseMethods(["sum", "median"])).Should().Throw<NgsiException>();
}
