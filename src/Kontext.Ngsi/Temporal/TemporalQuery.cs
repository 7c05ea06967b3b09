using System.Globalization;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;

namespace Kontext.Ngsi.Temporal;

public enum TimeRelation { Before, After, Between }

/// <summary>
/// The temporal part of a query (clause 4.11, parameters of clause 6.3.x / the TemporalQuery type of 5.2.21):
/// timerel with timeAt/endTimeAt, timeproperty and lastN. The window it selects:
/// before → t &lt; timeAt (an exclusive bound); after → t ≥ timeAt (an inclusive bound); between → timeAt ≤ t &lt; endTimeAt;
/// no timerel → all of history (clause 4.11).
/// </summary>
public sealed record TemporalQuery(
    TimeRelation? TimeRel = null,
    DateTimeOffset? TimeAt = null,
    DateTimeOffset? EndTimeAt = null,
    TemporalTimeProperty TimeProperty = TemporalTimeProperty.ObservedAt,
    int? LastN = null)
{
    public static TemporalQuery All { get; } = new();

    public DateTimeOffset? From => TimeRel is TimeRelation.After or TimeRelation.Between ? TimeAt : null;
    public bool FromInclusive => TimeRel is TimeRelation.After or TimeRelation.Between;
    public DateTimeOffset? To => TimeRel switch { TimeRelation.Before => TimeAt, TimeRelation.Between => EndTimeAt, _ => null };

    public bool Contains(DateTimeOffset t) =>
        (From is not { } from || (FromInclusive ? t >= from : t > from)) && (To is not { } to || t < to);

    /// <summary>Parses and validates the raw values (absent: null); every problem is BadRequestData.</summary>
    public static TemporalQuery Parse(string? timerel, string? timeAt, string? endTimeAt, string? timeproperty, string? lastN)
    {
        TimeRelation? relation = Present(timerel) switch
        {
            null => null,
            "before" => TimeRelation.Before,
            "after" => TimeRelation.After,
            "between" => TimeRelation.Between,
            var other => throw NgsiException.BadRequestData($"timerel must be before, after or between, not '{other}'"),
        };
        var at = ParseTime(timeAt, "timeAt");
        var end = ParseTime(endTimeAt, "endTimeAt");
        if (relation is null && (at is not null || end is not null))
            throw NgsiException.BadRequestData("timeAt and endTimeAt need a timerel");
        if (relation is not null && at is null) throw NgsiException.BadRequestData($"timerel={Name(relation.Value)} needs timeAt");
        if (relation == TimeRelation.Between)
        {
            if (end is null) throw NgsiException.BadRequestData("timerel=between needs endTimeAt");
            if (end <= at) throw NgsiException.BadRequestData("endTimeAt must be after timeAt");
        }
        else if (end is not null) throw NgsiException.BadRequestData("endTimeAt is only allowed with timerel=between");

        var property = Present(timeproperty) switch
        {
            null or "observedAt" => TemporalTimeProperty.ObservedAt,
            "createdAt" => TemporalTimeProperty.CreatedAt,
            "modifiedAt" => TemporalTimeProperty.ModifiedAt,
            "deletedAt" => TemporalTimeProperty.DeletedAt,
            var other => throw NgsiException.BadRequestData($"timeproperty must be observedAt, createdAt, modifiedAt or deletedAt, not '{other}'"),
        };
        int? n = null;
        if (Present(lastN) is { } lastNText)
        {
            if (!int.TryParse(lastNText, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < 1)
                throw NgsiException.BadRequestData($"lastN must be a positive integer, not '{lastNText}'");
            n = value;
        }
        return new TemporalQuery(relation, at, end, property, n);
    }

    public static string Name(TimeRelation relation) => relation switch
    {
        TimeRelation.Before => "before",
        TimeRelation.After => "after",
        _ => "between",
    };

    public static string Name(TemporalTimeProperty property) => property switch
    {
        TemporalTimeProperty.CreatedAt => "createdAt",
        TemporalTimeProperty.ModifiedAt => "modifiedAt",
        TemporalTimeProperty.DeletedAt => "deletedAt",
        _ => "observedAt",
    };

    private static DateTimeOffset? ParseTime(string? text, string name)
    {
        if (Present(text) is not { } value) return null;
        if (!Validate.TryParseDateTime(value, out var time))
            throw NgsiException.BadRequestData($"{name} '{value}' is not an ISO 8601 date-time (e.g. 2024-05-01T12:00:00Z)");
        // The store keeps milliseconds; a finer bound is rounded so comparisons mean the same in SQL and in memory.
        return DateTimeOffset.FromUnixTimeMilliseconds(time.ToUnixTimeMilliseconds());
    }

    private static string? Present(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
