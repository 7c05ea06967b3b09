using Kontext.Ngsi.Storage;

namespace Kontext.Ngsi.Temporal;

/// <summary>
/// Where a page of instances stopped (clause 6.3.10, pagination of temporal instances). Forward pages hold every
/// instance before <see cref="Cutoff"/> and the next page starts there; backward pages (lastN) hold every instance
/// after it and the next page ends there. <see cref="First"/>/<see cref="Last"/> are the oldest and newest instance returned.
/// </summary>
public sealed record TemporalCut(bool Backward, DateTimeOffset Cutoff, DateTimeOffset? First, DateTimeOffset? Last);

public static class TemporalPaging
{
    /// <summary>
    /// Cuts per-attribute instance lists, each read with one more than <paramref name="limit"/> instances (ascending,
    /// or descending when <paramref name="backward"/>), into one page that never splits a timestamp: every attribute
    /// is cut at the same instant, so the follow-up request (strictly after <see cref="TemporalCut.Last"/>, or strictly
    /// before <see cref="TemporalCut.First"/>) returns each remaining instance exactly once. Returns lists in ascending time order.
    /// </summary>
    public static (List<List<TemporalInstance>> Pages, TemporalCut? Cut) Cut(IReadOnlyList<IReadOnlyList<TemporalInstance>> groups, int limit, bool backward)
    {
        DateTimeOffset? cutoff = null;
        foreach (var group in groups)
        {
            if (group.Count <= limit) continue;
            var excluded = group[limit].Time;
            cutoff = cutoff is not { } c ? excluded : backward ? Max(c, excluded) : Min(c, excluded);
        }
        var pages = new List<List<TemporalInstance>>(groups.Count);
        if (cutoff is not { } at)
        {
            foreach (var group in groups) pages.Add(Ascending(group, backward, group.Count));
            return (pages, null);
        }
        foreach (var group in groups)
        {
            var kept = group.Where(i => backward ? i.Time > at : i.Time < at).ToList();
            pages.Add(Ascending(kept, backward, kept.Count));
        }
        if (pages.All(p => p.Count == 0))
        {
            // More than a page of instances share one timestamp: return a page of them so the walk moves on.
            pages.Clear();
            foreach (var group in groups) pages.Add(Ascending(group.Where(i => i.Time == at).Take(limit).ToList(), backward, limit));
        }
        var all = pages.SelectMany(p => p).ToList();
        return (pages, new TemporalCut(backward, at, all.Count == 0 ? null : all.Min(i => i.Time), all.Count == 0 ? null : all.Max(i => i.Time)));
    }

    private static List<TemporalInstance> Ascending(IReadOnlyList<TemporalInstance> group, bool backward, int take)
    {
        var list = group.Take(Math.Min(take, group.Count)).ToList();
        if (backward) list.Reverse();
        return list;
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}
