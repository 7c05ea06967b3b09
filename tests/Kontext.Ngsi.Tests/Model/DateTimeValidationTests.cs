using System.Globalization;
using Kontext.Ngsi.Model;

namespace Kontext.Ngsi.Tests.Model;

/// <summary>NGSI-LD DateTime (clause 4.6.3) read field by field gives what the platform's exact-format parser gives.</summary>
public sealed class DateTimeValidationTests
{
    /// <summary>The platform's reading of a text the pattern admits: the reference the positional reader must equal.</summary>
    private static bool Reference(string text, out DateTimeOffset value, bool allowOffset)
    {
        value = default;
        if (!allowOffset && text[^1] != 'Z') return false;
        var zone = text[^1] == 'Z' ? "Z" : text[^6..];
        var local = text[..^zone.Length];
        var fraction = local.IndexOf('.');
        if (fraction >= 0 && local.Length - fraction - 1 > 7) local = local[..(fraction + 8)];
        return DateTimeOffset.TryParseExact(local + zone, ["yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK"], CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value);
    }

    [Theory]
    [InlineData("2024-02-29T23:59:59Z", true)]
    [InlineData("2023-02-29T00:00:00Z", false)]
    [InlineData("2024-04-31T00:00:00Z", false)]
    [InlineData("2024-13-01T00:00:00Z", false)]
    [InlineData("2024-00-10T00:00:00Z", false)]
    [InlineData("2024-01-00T00:00:00Z", false)]
    [InlineData("2024-01-01T24:00:00Z", false)]
    [InlineData("2024-01-01T23:60:00Z", false)]
    [InlineData("2024-01-01T23:59:60Z", false)]
    [InlineData("0000-01-01T00:00:00Z", false)]
    [InlineData("0001-01-01T00:00:00Z", true)]
    [InlineData("9999-12-31T23:59:59.9999999Z", true)]
    [InlineData("2024-05-01T12:00:00.123456789Z", true)]
    [InlineData("2024-05-01T12:00:00.1Z", true)]
    public void Calendar_and_clock_limits_are_those_of_the_platform(string text, bool valid)
    {
        Validate.TryParseDateTime(text, out var value).Should().Be(valid);
        Reference(text, out var expected, allowOffset: false).Should().Be(valid);
        value.Should().Be(expected);
    }

    [Theory]
    [InlineData("2024-05-01T12:00:00+02:00")]
    [InlineData("2024-05-01T12:00:00.5-11:30")]
    [InlineData("2024-05-01T12:00:00+14:00")]
    [InlineData("2024-05-01T12:00:00+14:01")]
    [InlineData("2024-05-01T12:00:00+00:60")]
    [InlineData("0001-01-01T00:00:00+01:00")]
    [InlineData("9999-12-31T23:59:59-01:00")]
    public void An_offset_where_one_is_allowed_is_read_as_the_platform_reads_it(string text)
    {
        var valid = Reference(text, out var expected, allowOffset: true);

        Validate.TryParseDateTime(text, out var value, allowOffset: true).Should().Be(valid);
        value.Should().Be(expected);
        value.Offset.Should().Be(TimeSpan.Zero);
        Validate.TryParseDateTime(text, out _).Should().BeFalse("a stored time is UTC");
    }

    [Fact]
    public void Random_valid_looking_times_read_the_same_as_the_platform_reads_them()
    {
        var random = new Random(4639);
        for (var i = 0; i < 20_000; i++)
        {
            var fraction = random.Next(4) switch { 0 => "", 1 => "." + random.Next(10), 2 => "." + random.Next(1000).ToString("D3"), _ => "." + random.NextInt64(1_000_000_000).ToString("D9") };
            var zone = random.Next(3) == 0 ? $"{(random.Next(2) == 0 ? '+' : '-')}{random.Next(16):D2}:{random.Next(61):D2}" : "Z";
            var text = $"{random.Next(10_000):D4}-{random.Next(14):D2}-{random.Next(33):D2}T{random.Next(26):D2}:{random.Next(62):D2}:{random.Next(62):D2}{fraction}{zone}";

            var valid = Reference(text, out var expected, allowOffset: true);
            Validate.TryParseDateTime(text, out var value, allowOffset: true).Should().Be(valid, text);
            value.Should().Be(expected, text);
        }
    }
}
