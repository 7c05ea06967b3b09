using Kontext.Ngsi.Storage;

namespace Kontext.Ngsi.Temporal;

/// <summary>The fixed spans the stores pre-aggregate each series' samples into (by observedAt, in UTC).</summary>
public enum BucketGranularity { Hour, Day }

/// <summary>
/// Pre-aggregated buckets (issue 12, item 3): every store keeps, per (entity, attribute, datasetId), the figures of each
/// UTC hour and day that holds samples, maintained by every instance write, modification and deletion in its transaction.
/// A period composes whole buckets when every period boundary falls on a bucket boundary: the window start (the periods'
/// anchor, clause 4.5.19) on an hour or midnight and the period's fixed part a whole number of hours or days; calendar
/// months and years keep the time of day, so P1M and P1Y from midnight compose days. The window end, wherever it falls,
/// cuts at most the last bucket: those samples are aggregated from the instances (<see cref="ITemporalStore.AggregateAsync"/>).
/// </summary>
public static class Buckets
{
    public static TimeSpan Span(BucketGranularity granularity) => granularity == BucketGranularity.Day ? TimeSpan.FromDays(1) : TimeSpan.FromHours(1);

    /// <summary>The start of the bucket holding <paramref name="t"/>.</summary>
    public static DateTimeOffset Floor(DateTimeOffset t, BucketGranularity granularity)
    {
        var ticks = Span(granularity).Ticks;
        var utc = t.UtcTicks;
        return new DateTimeOffset(utc - utc % ticks, TimeSpan.Zero);
    }

    /// <summary>
    /// Where the whole buckets of the window [<paramref name="from"/>, <paramref name="to"/>) end (null: open) and whether
    /// a cut bucket follows them: the samples in [cut, to) are read from the instances.
    /// </summary>
    public static (DateTimeOffset? Cut, bool Edge) Split(DateTimeOffset from, DateTimeOffset? to, BucketGranularity granularity)
    {
        if (to is not { } end) return (null, false);
        var floor = Floor(end, granularity);
        var cut = floor < from ? from : floor;
        return (cut, cut < end);
    }

    /// <summary>The coarsest granularity whose boundaries all periods from <paramref name="anchor"/> keep; null when none does.</summary>
    public static BucketGranularity? Aligned(DateTimeOffset anchor, IsoDuration period)
    {
        foreach (var granularity in new[] { BucketGranularity.Day, BucketGranularity.Hour })
        {
            var span = Span(granularity).Ticks;
            if (anchor.UtcTicks % span == 0 && period.Time.Ticks % span == 0) return granularity;
        }
        return null;
    }

    /// <summary>
    /// The figures per period, as <see cref="ITemporalStore.AggregateAsync"/> gives them, from the whole buckets of the
    /// window (starts in [from, the last bucket boundary before the end)) and the figures of the cut last bucket
    /// (<paramref name="edge"/>: one row per series, any period index, over [that boundary, end)). Buckets arrive in
    /// start order per series; a period's attribute type is that of its latest sample. distinctCount cannot compose
    /// (the plan never asks for it here): its figure is left 0.
    /// </summary>
    public static IReadOnlyList<PeriodStatistics> Compose(IEnumerable<BucketStatistics> buckets, IEnumerable<PeriodStatistics> edge,
        IsoDuration period, DateTimeOffset from)
    {
        var rows = new List<PeriodStatistics>();
        var series = buckets.Select(b => (Key: (b.EntityId, b.Attribute, b.DatasetId), Start: b.Start, Row: new PeriodStatistics(
                b.EntityId, b.Attribute, b.DatasetId, b.LastType, 0, b.FirstSample, b.LastSample, b.Figures)))
            .Concat(edge.Select(e => (Key: (e.EntityId, e.Attribute, e.DatasetId), Start: e.FirstSample, Row: e)))
            .GroupBy(x => x.Key);
        foreach (var group in series)
        {
            PeriodStatistics? open = null;
            long k = 0;
            var next = Aggregation.Boundary(from, period, 1);
            foreach (var (_, start, row) in group.OrderBy(x => x.Start))
            {
                if (!period.IsZero)
                {
                    if (period.Years == 0 && period.Months == 0) k = Math.Max(k, (start - from).Ticks / period.Time.Ticks);
                    else while (next <= start) next = Aggregation.Boundary(from, period, ++k + 1);
                }
                if (open is not null && open.Period != k)
                {
                    rows.Add(open);
                    open = null;
                }
                open = open is null ? row with { Period = k } : Merge(open, row);
            }
            if (open is not null) rows.Add(open);
        }
        return rows;
    }

    /// <summary>Two parts of one period, <paramref name="later"/> after <paramref name="earlier"/> in time.</summary>
    private static PeriodStatistics Merge(PeriodStatistics earlier, PeriodStatistics later) => earlier with
    {
        AttributeType = later.AttributeType,
        FirstSample = earlier.FirstSample < later.FirstSample ? earlier.FirstSample : later.FirstSample,
        LastSample = earlier.LastSample > later.LastSample ? earlier.LastSample : later.LastSample,
        Figures = earlier.Figures.Plus(later.Figures),
    };
}
