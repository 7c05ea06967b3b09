using System.Globalization;
using System.Text.RegularExpressions;
using Kontext.Ngsi.Errors;

namespace Kontext.Ngsi.Temporal;

/// <summary>
/// An ISO 8601 duration (PnYnMnWnDTnHnMnS) as aggrPeriodDuration uses it (clause 4.5.19). Years and months are
/// calendar units, added to a start instant in UTC; the rest is a fixed time span. P0D (zero) means "the whole window".
/// </summary>
public sealed partial record IsoDuration(int Years, int Months, TimeSpan Time)
{
    public static IsoDuration Zero { get; } = new(0, 0, TimeSpan.Zero);

    public bool IsZero => Years == 0 && Months == 0 && Time == TimeSpan.Zero;

    public DateTimeOffset AddTo(DateTimeOffset start) => start.ToUniversalTime().AddYears(Years).AddMonths(Months).Add(Time);

    [GeneratedRegex(@"^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    public static IsoDuration Parse(string text)
    {
        var match = Pattern().Match(text.Trim());
        if (!match.Success) throw NgsiException.BadRequestData($"aggrPeriodDuration '{text}' is not an ISO 8601 duration (e.g. PT1H, P1D, P1M)");
        try
        {
            int Part(int group) => match.Groups[group].Success ? int.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture) : 0;
            var seconds = match.Groups[7].Success ? double.Parse(match.Groups[7].Value.Replace(',', '.'), CultureInfo.InvariantCulture) : 0;
            var time = TimeSpan.FromDays(Part(3) * 7L + Part(4)) + TimeSpan.FromHours(Part(5)) + TimeSpan.FromMinutes(Part(6)) + TimeSpan.FromMilliseconds(Math.Round(seconds * 1000));
            return new IsoDuration(Part(1), Part(2), time);
        }
        catch (OverflowException)
        {
            throw NgsiException.BadRequestData($"aggrPeriodDuration '{text}' is too large");
        }
    }
}
