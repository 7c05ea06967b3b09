using System.Globalization;
using CsCheck;
using Kontext.Ngsi.Model;

namespace Kontext.Ngsi.Tests.Model;

/// <summary>The broker's timestamp text, written digit by digit, is what the platform's custom format string gives.</summary>
public sealed class TimestampFormatTests
{
    private static string Reference(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    [Theory]
    [InlineData(0L, 0)]
    [InlineData(638_000_000_000_000_000L, 0)]
    [InlineData(638_000_000_009_999_999L, 2)] // sub-millisecond ticks are cut, not rounded
    [InlineData(3_155_378_975_999_999_999L, 0)] // 9999-12-31T23:59:59.999
    [InlineData(638_000_000_000_000_000L, -5)]
    public void A_time_is_written_as_UTC_with_milliseconds(long ticks, int offsetHours)
    {
        var offset = TimeSpan.FromHours(offsetHours);
        var t = new DateTimeOffset(Math.Max(ticks, offset.Ticks > 0 ? offset.Ticks : -offset.Ticks), offset);
        Validate.Format(t).Should().Be(Reference(t));
    }

    [Fact]
    public void Any_time_is_written_as_the_custom_format_string_writes_it() =>
        Gen.Long[DateTimeOffset.MinValue.Ticks + TimeSpan.TicksPerDay, DateTimeOffset.MaxValue.Ticks - TimeSpan.TicksPerDay]
            .Select(Gen.Int[-14 * 60, 14 * 60])
            .Sample((ticks, minutes) =>
            {
                var t = new DateTimeOffset(ticks, TimeSpan.FromMinutes(minutes));
                return Validate.Format(t) == Reference(t);
            }, iter: 20_000);
}
