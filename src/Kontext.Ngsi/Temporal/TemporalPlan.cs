using Kontext.Ngsi.Storage;

namespace Kontext.Ngsi.Temporal;

/// <summary>
/// How a temporal query is answered, decided from the query alone:
/// <list type="bullet">
/// <item><see cref="Buckets"/>: aggregated values by observedAt from a window start on a bucket boundary, over periods
/// that keep to bucket boundaries (hours, days, calendar months and years: <see cref="Temporal.Buckets.Aligned"/>) and
/// without distinctCount, are composed from the store's pre-aggregated buckets plus the instances of the cut last bucket.</item>
/// <item><see cref="StorePeriod"/>: other aggregated values over a fixed period (no months or years, whole milliseconds) by
/// observedAt or createdAt are computed in the store (SQL GROUP BY, a Mongo $group): only the figures per period leave the database.</item>
/// <item>Otherwise the instances are read, up to <see cref="PageSize"/> of them per attribute (backwards for lastN), and
/// aggregated in memory or, with <see cref="Paging"/>, cut into pages of the instance limit (clause 6.3.10; one more is
/// read to know a page was cut).</item>
/// </list>
/// A plan with buckets keeps the plan it would have had without them, for requests the buckets cannot answer (a scopeQ
/// that limits the instances to times, known only after the entities are read).
/// </summary>
public sealed record TemporalPlan(IsoDuration? StorePeriod, int PageSize, bool Backward, bool Paging, BucketGranularity? Buckets = null)
{
    public bool AggregatesInStore => StorePeriod is not null || Buckets is not null;

    /// <summary>The instances to read per attribute: one beyond the page when paging.</summary>
    public int ReadLimit => Paging ? PageSize + 1 : PageSize;

    public static TemporalPlan For(TemporalQuery query, TemporalRenderOptions render, int instanceLimit)
    {
        if (render.Format != TemporalFormat.AggregatedValues)
            return new TemporalPlan(null, Math.Min(query.LastN ?? instanceLimit, instanceLimit), Backward: query.LastN is not null,
                Paging: query.LastN is null || query.LastN > instanceLimit);
        var period = render.Period ?? IsoDuration.Zero;
        var plan = render.Period is { Years: 0, Months: 0 } && period.Time.Ticks % TimeSpan.TicksPerMillisecond == 0
                   && query.TimeProperty is TemporalTimeProperty.ObservedAt or TemporalTimeProperty.CreatedAt
            ? new TemporalPlan(period, 0, Backward: false, Paging: false)
            : new TemporalPlan(null, int.MaxValue - 1, Backward: false, Paging: false);
        var composable = query.TimeProperty == TemporalTimeProperty.ObservedAt && query.From is { } from && query.FromInclusive
                         && render.Methods is { Count: > 0 } methods && !methods.Contains(AggregationMethod.DistinctCount);
        return composable && Temporal.Buckets.Aligned(query.From!.Value, period) is { } granularity ? plan with { Buckets = granularity } : plan;
    }
}
