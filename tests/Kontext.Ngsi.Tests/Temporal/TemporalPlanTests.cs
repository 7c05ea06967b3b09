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
