using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;

namespace Kontext.Ngsi.Temporal;

/// <summary>
/// The temporal evolution of a distributed retrieve or query (clause 4.3.6 with 5.7.3.4/5.7.4.4): local history and the
/// instances context sources answered form one series per attribute, and everything after the merge (the window,
/// lastN, the instance limit, aggregation) runs over that series, never per broker. Remote instances are read by the
/// same rules as the stores read local ones (<see cref="ITemporalStore.ReadInstancesAsync"/>): the time of an instance is
/// its observedAt, or when it was recorded for createdAt/modifiedAt, or when it was deleted for deletedAt (deletions
/// only; createdAt holds none). An instance held by both sides (same attribute, datasetId and time, or same instanceId)
/// appears once, the local one.
/// </summary>
public static class TemporalMerge
{
    /// <summary>The merged read: <paramref name="local"/> (the store's answer to <paramref name="request"/>) with the remote records it selects.</summary>
    public static IReadOnlyList<TemporalInstance> Merge(IReadOnlyList<TemporalInstance> local, IEnumerable<AttributeInstanceRecord> remote, TemporalReadRequest request)
    {
        if (request.PerAttributeLimit <= 0) return [];
        var ids = request.EntityIds.ToHashSet(StringComparer.Ordinal);
        var seen = new HashSet<(string, string, string?, DateTimeOffset)>();
        var instanceIds = new HashSet<string>(StringComparer.Ordinal);
        var all = new List<TemporalInstance>(local);
        foreach (var instance in local)
        {
            seen.Add(Key(instance));
            instanceIds.Add(instance.Record.InstanceId);
        }
        foreach (var record in remote)
        {
            if (!ids.Contains(record.EntityId) || request.Attributes is { } attributes && !attributes.Contains(record.Attribute)) continue;
            if (request.DatasetIds is { } datasets && !datasets.Contains(record.DatasetId)) continue;
            if (TimeOf(record, request.TimeProperty) is not { } time || !Within(time, request)) continue;
            var instance = new TemporalInstance(record, time);
            if (seen.Add(Key(instance)) && instanceIds.Add(record.InstanceId)) all.Add(instance);
        }
        // Ordered as a store answers: by entity and attribute, then time; each series cut to its limit (its newest with lastN).
        return all.GroupBy(i => (i.Record.EntityId, i.Record.Attribute))
            .OrderBy(g => g.Key.EntityId, StringComparer.Ordinal).ThenBy(g => g.Key.Attribute, StringComparer.Ordinal)
            .SelectMany(g =>
            {
                var series = g.OrderBy(i => i.Time).ToList();
                return request.Newest ? series.Skip(Math.Max(0, series.Count - request.PerAttributeLimit)) : series.Take(request.PerAttributeLimit);
            })
            .ToList();
    }

    /// <summary>The time of <paramref name="record"/> for a window on <paramref name="property"/>; null when such a window never holds it.</summary>
    public static DateTimeOffset? TimeOf(AttributeInstanceRecord record, TemporalTimeProperty property)
    {
        var deleted = record.Kind == AttributeChangeKind.Deleted;
        return property switch
        {
            TemporalTimeProperty.ObservedAt => record.ObservedAt,
            TemporalTimeProperty.CreatedAt => deleted ? null : record.ModifiedAt,
            TemporalTimeProperty.DeletedAt => deleted ? record.ModifiedAt : null,
            _ => record.ModifiedAt,
        };
    }

    /// <summary>
    /// Whether a registration can hold history inside a temporal request's window (clause 5.2.9): an observedAt window must
    /// overlap the observationInterval, a createdAt or modifiedAt window the managementInterval; a registration without that
    /// interval does not say, and is asked.
    /// </summary>
    public static bool MayHold(Registration registration, TemporalQuery query)
    {
        var interval = query.TimeProperty switch
        {
            TemporalTimeProperty.ObservedAt => registration.ObservationInterval,
            TemporalTimeProperty.CreatedAt or TemporalTimeProperty.ModifiedAt => registration.ManagementInterval,
            _ => null,
        };
        if (interval is null) return true;
        return (query.To is not { } end || interval.StartAt < end) && (query.From is not { } start || interval.EndAt is not { } stop || stop > start);
    }

    private static bool Within(DateTimeOffset time, TemporalReadRequest request) =>
        (request.From is not { } from || (request.FromInclusive ? time >= from : time > from)) && (request.To is not { } to || time < to);

    private static (string, string, string?, DateTimeOffset) Key(TemporalInstance instance) =>
        (instance.Record.EntityId, instance.Record.Attribute, instance.Record.DatasetId, instance.Time);
}
