using Kontext.Ngsi.Model;

namespace Kontext.Broker.Ogc;

/// <summary>
/// The datetime parameter (/req/core/fc-time-definition, -response): an RFC 3339 date-time, or an interval of two with
/// ".." or nothing for an open end. <see cref="Start"/> equals <see cref="End"/> for an instant; null is an open end.
/// </summary>
internal sealed record DateTimeParameter(DateTimeOffset? Start, DateTimeOffset? End)
{
    public bool IsInstant => Start is not null && Start == End;

    public static DateTimeParameter Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length == 1) return new(Instant(parts[0]), Instant(parts[0]));
        if (parts.Length != 2)
            throw OgcException.InvalidParameter($"datetime '{text}' must be a date-time or an interval start/end");
        var start = Open(parts[0]) ? (DateTimeOffset?)null : Instant(parts[0]);
        var end = Open(parts[1]) ? (DateTimeOffset?)null : Instant(parts[1]);
        if (start is null && end is null)
            throw OgcException.InvalidParameter($"datetime '{text}': an interval needs at least one bounded end");
        if (start > end)
            throw OgcException.InvalidParameter($"datetime '{text}': the interval ends before it starts");
        return new(start, end);
    }

    private static bool Open(string part) => part is "" or "..";

    private static DateTimeOffset Instant(string text) =>
        Validate.TryParseDateTime(text, out var instant, allowOffset: true)
            ? instant
            : throw OgcException.InvalidParameter(
                $"datetime: '{text}' is not an RFC 3339 date-time such as 2025-05-20T08:15:00Z (intervals: start/end, '..' for an open end)");

    public bool Contains(DateTimeOffset instant) => (Start is null || instant >= Start) && (End is null || instant <= End);
}
