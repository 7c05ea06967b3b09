using Kontext.Ngsi.Formats;
using Kontext.Ngsi.Storage;
using Kontext.Ngsi.Temporal;

namespace Kontext.Ngsi.Tests.Temporal;

public class TemporalPlanTests
{
    private const int Limit = 100;

    private static TemporalPlan Plan(TemporalFormat format, string? period = null, TemporalTimeProperty time = TemporalTimeProperty.ObservedAt, int? lastN = null)
    {
        var query = new TemporalQuery(TimeProperty: time, LastN: lastN);
        return TemporalPlan.For(query, new TemporalRenderOptions(format, new RenderOptions(), query, Period: period is null ? null : IsoDuration.Parse(period)), Limit);
    }

    [Theory]
    [InlineData("PT1H", TemporalTimeProperty.ObservedAt)]
    [InlineData("P1DT0.5S", TemporalTimeProperty.CreatedAt)]
    public void Aggregated_values_over_a_fixed_period_by_observedAt_or_createdAt_are_computed_in_the_store(string period, TemporalTimeProperty time)
    {
        var plan = Plan(TemporalFormat.AggregatedValues, period, time);
        plan.AggregatesInStore.Should().BeTrue();
        plan.StorePeriod.Should().Be(IsoDuration.Parse(period));
    }

    [Theory]
    [InlineData("P1M", TemporalTimeProperty.ObservedAt)]   // a calendar period
    [InlineData("P1Y", TemporalTimeProperty.ObservedAt)]
    [InlineData("PT1H", TemporalTimeProperty.ModifiedAt)]  // deletions count by modifiedAt
    [InlineData(null, TemporalTimeProperty.ObservedAt)]    // no period: the whole window
    public void Other_aggregations_read_every_instance_and_aggregate_in_memory(string? period, TemporalTimeProperty time)
    {
        var plan = Plan(TemporalFormat.AggregatedValues, period, time);
        plan.AggregatesInStore.Should().BeFalse();
        plan.Paging.Should().BeFalse();
        plan.Backward.Should().BeFalse();
        plan.ReadLimit.Should().Be(int.MaxValue - 1);
    }

    private static readonly DateTimeOffset Midnight = new(2025, 3, 1, 0, 0, 0, TimeSpan.Zero);

    private static TemporalPlan Aggregated(string? period, DateTimeOffset? from, string methods = "avg,min,max",
        TemporalTimeProperty time = TemporalTimeProperty.ObservedAt, DateTimeOffset? to = null)
    {
        var query = from is null ? new TemporalQuery(TimeProperty: time) : to is null
            ? new TemporalQuery(TimeRelation.After, from, TimeProperty: time)
            : new TemporalQuery(TimeRelation.Between, from, to, time);
        return TemporalPlan.For(query, new TemporalRenderOptions(TemporalFormat.AggregatedValues, new RenderOptions(), query,
            Aggregation.ParseMethods(methods.Split(',')), period is null ? null : IsoDuration.Parse(period)), Limit);
    }

    [Theory]
    [InlineData("P1D")]
    [InlineData("P1M")]     // calendar months keep the time of day: every boundary is a midnight
    [InlineData("P1Y")]
    [InlineData("P1W")]
    [InlineData("P0D")]     // the whole window
    [InlineData(null)]
    public void Aggregation_from_a_midnight_over_whole_days_composes_day_buckets(string? period)
    {
        var plan = Aggregated(period, Midnight, to: Midnight.AddDays(400).AddMinutes(7)); // an end inside a bucket is the edge, not a reason to fall back
        plan.Buckets.Should().Be(BucketGranularity.Day);
        plan.AggregatesInStore.Should().BeTrue();
    }

    [Theory]
    [InlineData("PT1H", 0)]
    [InlineData("PT3H", 0)]
    [InlineData("P1DT1H", 0)]
    [InlineData("P1D", 6)]   // a day from 06:00: its boundaries are hours
    [InlineData("P1M", 13)]
    public void Aggregation_from_a_whole_hour_over_whole_hours_composes_hour_buckets(string period, int hour) =>
        Aggregated(period, Midnight.AddHours(hour)).Buckets.Should().Be(BucketGranularity.Hour);

    [Theory]
    [InlineData("P1D", 7, "avg", TemporalTimeProperty.ObservedAt)]            // a window start off the hour
    [InlineData("PT90M", 0, "avg", TemporalTimeProperty.ObservedAt)]          // periods off the hour
    [InlineData("PT15M", 0, "avg", TemporalTimeProperty.ObservedAt)]
    [InlineData("P1D", 0, "avg,distinctCount", TemporalTimeProperty.ObservedAt)] // distinct values do not add up across buckets
    [InlineData("P1D", 0, "max", TemporalTimeProperty.CreatedAt)]             // buckets are by observedAt
    public void Aggregation_that_buckets_cannot_compose_is_not_planned_on_buckets(string period, int minutes, string methods, TemporalTimeProperty time) =>
        Aggregated(period, Midnight.AddMinutes(minutes), methods, time).Buckets.Should().BeNull();

    [Theory]
    [InlineData("P1D")]
    [InlineData("P1M")]
    public void Aggregation_without_a_window_start_anchors_at_each_series_first_sample_and_reads_no_buckets(string period) =>
        Aggregated(period, from: null).Buckets.Should().BeNull();

    [Fact]
    public void A_bucket_plan_keeps_the_fallback_for_requests_buckets_cannot_answer()
    {
        Aggregated("P1D", Midnight).StorePeriod.Should().Be(IsoDuration.Parse("P1D"), "a fixed period is otherwise grouped in the store");
        var calendar = Aggregated("P1M", Midnight);
        (calendar.StorePeriod, calendar.ReadLimit).Should().Be((null, int.MaxValue - 1), "a calendar period is otherwise aggregated in memory");
    }

    [Fact]
    public void Instances_are_read_forwards_in_pages_of_the_instance_limit_plus_one_to_see_the_cut()
    {
        var plan = Plan(TemporalFormat.Normalized);
        (plan.AggregatesInStore, plan.Backward, plan.Paging, plan.PageSize, plan.ReadLimit).Should().Be((false, false, true, Limit, Limit + 1));
    }

    [Fact]
    public void LastN_reads_backwards_and_pages_only_beyond_the_instance_limit()
    {
        var within = Plan(TemporalFormat.TemporalValues, lastN: 5);
        (within.Backward, within.Paging, within.ReadLimit).Should().Be((true, false, 5));
        var beyond = Plan(TemporalFormat.Normalized, lastN: 500);
        (beyond.Backward, beyond.Paging, beyond.PageSize, beyond.ReadLimit).Should().Be((true, true, Limit, Limit + 1));
    }
}
