using System.Globalization;
using Kontext.Ngsi.Model;

namespace Kontext.Ngsi.Temporal;

/// <summary>
/// How the temporal representations write the instants they compute or read back (the time of a [value, time] pair,
/// aggregation period bounds, deletedAt, Content-Range): whole seconds as "2020-08-01T12:03:00Z", the form of the
/// specification's examples and of what clients send, and milliseconds only when there are some.
/// </summary>
public static class TemporalTime
{
    public static string Format(DateTimeOffset t) =>
        t.UtcTicks % TimeSpan.TicksPerSecond == 0
            ? t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)
            : Validate.Format(t);
}
