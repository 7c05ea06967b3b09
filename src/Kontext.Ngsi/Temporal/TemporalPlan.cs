using Kontext.Ngsi.Storage;

namespace Kontext.Ngsi.Temporal;

/// <summary>
/// How a temporal query is answered, decided from the query alone. Aggregated values over a fixed period (no months or
/// years, whole milliseconds) by observedAt or createdAt are computed in the store (SQL GROUP BY, a Mongo $group): only
/// the figures per period leave the database (<see cref="StorePeriod"/>). Otherwise the instances are read, up to
/// <see cref="PageSize"/> of them per attribute (backwards for lastN), and aggregated in memory or, with
/// <see cref="Paging"/>, cut into pages of the instance limit (clause 6.3.10; one more is read to know a page was cut).
/// </summary>
public sealed record TemporalPlan(IsoDuration? StorePeriod, int PageSize, bool Backward, bool Paging)
{
    public bool AggregatesInStore => StorePeriod is not null;

    /// <summary>The instances to read per attribute: one beyond the page when paging.</summary>
    public int ReadLimit => Paging ? PageSize + 1 : PageSize;

    public static TemporalPlan For(TemporalQuery query, TemporalRenderOptions render, int instanceLimit)
    {
        var aggregated = render.Format == TemporalFormat.AggregatedValues;
        if (aggregated && render.Period is { Years: 0, Months: 0 } period && period.Time.Ticks % TimeSpan.TicksPerMillisecond == 0
            && query.TimeProperty is TemporalTimeProperty.ObservedAt or TemporalTimeProperty.CreatedAt)
            return new TemporalPlan(period, 0, Backward: false, Paging: false);
        if (aggregated) return new TemporalPlan(null, int.MaxValue - 1, Backward: false, Paging: false);
        return new TemporalPlan(null, Math.Min(query.LastN ?? instanceLimit, instanceLimit), Backward: query.LastN is not null,
            Paging: query.LastN is null || query.LastN > instanceLimit);
    }
}
