using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Kontext.Ngsi.Errors;

namespace Kontext.Ngsi.Model;

/// <summary>Syntactic rules of NGSI-LD identifiers, names, scopes and timestamps (clause 4.6).</summary>
public static partial class Validate
{
    // clause 4.6.2: characters forbidden in names: < > " ' = ; ( ) and, by their role in the query languages, whitespace and controls.
    private static readonly System.Buffers.SearchValues<char> ForbiddenInName = System.Buffers.SearchValues.Create("<>\"'=;()");

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>""{}|\\^`]+$", RegexOptions.CultureInvariant)]
    private static partial Regex UriPattern();

    [GeneratedRegex(@"^/[^\s/#+]+(/[^\s/#+]+)*$", RegexOptions.CultureInvariant)]
    private static partial Regex ScopePattern();

    public static bool IsUri(string? value) =>
        value is { Length: > 0 and <= 2048 } && UriPattern().IsMatch(value) && IsVisibleIri(value);

    /// <summary>
    /// Characters an id may hold: printable ASCII and the non-ASCII characters (RFC 3987 ucschar), without the ones that make two ids look the same while
    /// differing: default-ignorable code points (bidi controls such as U+202E, zero-width characters, the BOM,
    /// variation selectors, Hangul fillers), blank-looking ones (U+2800, Unicode spaces), controls, private use,
    /// noncharacters and unpaired surrogates. RFC 3987 clause 4.1 already forbids the bidi controls in IRIs.
    /// </summary>
    private static bool IsVisibleIri(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (Rune.DecodeFromUtf16(value.AsSpan(i), out var rune, out var length) != System.Buffers.OperationStatus.Done) return false;
            i += length - 1;
            if (rune.IsAscii)
            {
                if (rune.Value is < 0x21 or 0x7F) return false;
                continue;
            }
            var v = rune.Value;
            if ((v & 0xFFFE) == 0xFFFE || v is >= 0xFDD0 and <= 0xFDEF) return false; // noncharacters, U+xFFFE/U+xFFFF of every plane
            if (IsDefaultIgnorable(v) || v is 0x2800) return false;
            switch (Rune.GetUnicodeCategory(rune))
            {
                case UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.PrivateUse or UnicodeCategory.Surrogate
                    or UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
                    or UnicodeCategory.OtherNotAssigned:
                    return false;
            }
        }
        return true;
    }

    /// <summary>Unicode's Default_Ignorable_Code_Point property (DerivedCoreProperties.txt), the ranges outside category Cf.</summary>
    private static bool IsDefaultIgnorable(int v) => v is 0x034F or 0x115F or 0x1160 or 0x3164 or 0xFFA0
        or (>= 0x17B4 and <= 0x17B5) or (>= 0x180B and <= 0x180F) or (>= 0x200B and <= 0x200F) or (>= 0x202A and <= 0x202E)
        or (>= 0x2060 and <= 0x206F) or (>= 0xFE00 and <= 0xFE0F) or (>= 0xFFF0 and <= 0xFFF8) or (>= 0x1BCA0 and <= 0x1BCA3)
        or (>= 0x1D173 and <= 0x1D17A) or (>= 0xE0000 and <= 0xE0FFF);

    public static string EntityId(string? id, string what = "entity id")
    {
        if (!IsUri(id)) throw NgsiException.BadRequestData($"The {what} '{id}' is not a valid URI");
        // NGSI-LD Null marks deletions (clause 4.5.0); it names nothing.
        if (id == Attr.NullMarker) throw NgsiException.BadRequestData($"The {what} cannot be NGSI-LD Null ('{id}')");
        return id!;
    }

    public static void Name(string name, string what)
    {
        if (name.Length == 0) throw NgsiException.BadRequestData($"Empty {what}");
        if (name.Length > 512) throw NgsiException.BadRequestData($"The {what} is longer than 512 characters");
        foreach (var c in name)
        {
            if (ForbiddenInName.Contains(c) || char.IsWhiteSpace(c) || char.IsControl(c))
                throw NgsiException.BadRequestData($"The {what} '{name}' contains the forbidden character '{c}'");
        }
    }

    /// <summary>
    /// A name the client introduces (an entity type, an attribute name, clause 4.6.2): besides <see cref="Name"/>, a
    /// short name starts with a Unicode letter (name = unicodeLetter *nameChar); a name holding a colon is a CURIE or an
    /// IRI and is taken as such.
    /// </summary>
    public static void NewName(string name, string what)
    {
        Name(name, what);
        if (!name.Contains(':') && !char.IsLetter(name, 0))
            throw NgsiException.BadRequestData($"The {what} '{name}' must start with a letter");
    }

    public const int MaxTenantLength = 128;

    /// <summary>
    /// A tenant name (NGSILD-Tenant, clause 6.3.14): the spec leaves its syntax open. Kontext takes 1–128 characters of
    /// ASCII letters, digits and - _ . : ~ @ + / % (plain names, URNs such as urn:ngsi-ld:tenant:a, and other IRIs
    /// percent-encoded), so a tenant is safe to echo in headers and to write in logs and file names, and two names
    /// that look alike are equal.
    /// </summary>
    public static bool IsTenantName(string? name)
    {
        if (name is not { Length: > 0 and <= MaxTenantLength }) return false;
        foreach (var c in name)
            if (!char.IsAsciiLetterOrDigit(c) && "-_.:~@+/%".IndexOf(c) < 0) return false;
        return true;
    }

    public static string TenantName(string name, string what = "NGSILD-Tenant")
    {
        if (!IsTenantName(name))
            throw NgsiException.BadRequestData(
                $"Invalid {what}: a tenant name has 1 to {MaxTenantLength} characters from A-Z a-z 0-9 - _ . : ~ @ + / % (percent-encode other characters)");
        return name;
    }

    public static void Scope(string scope)
    {
        if (!ScopePattern().IsMatch(scope))
            throw NgsiException.BadRequestData($"Invalid scope '{scope}': a scope is a path such as /Madrid/Gardens");
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex DateTimePattern();

    /// <summary>
    /// An NGSI-LD DateTime (clause 4.6.3): ISO 8601 / RFC 3339 in UTC, "YYYY-MM-DDThh:mm:ss[.fraction]Z". Offsets,
    /// local times and other formats are refused rather than converted, so every stored time has the one UTC form.
    /// <paramref name="allowOffset"/> admits RFC 3339 offsets where a time is only compared, never kept (q literals).
    /// Fractions beyond the 100 ns the platform keeps are truncated.
    /// </summary>
    public static bool TryParseDateTime(string text, out DateTimeOffset value, bool allowOffset = false)
    {
        value = default;
        if (text.Length > 40 || !DateTimePattern().IsMatch(text) || (!allowOffset && text[^1] != 'Z')) return false;
        // The pattern fixed every field's position, so the fields are read by position: culture-aware format parsing
        // cost more than the rest of an attribute's validation (profile of a batch upsert).
        static int Digits(string s, int at, int count)
        {
            var n = 0;
            for (var i = at; i < at + count; i++) n = n * 10 + (s[i] - '0');
            return n;
        }
        int year = Digits(text, 0, 4), month = Digits(text, 5, 2), day = Digits(text, 8, 2);
        int hour = Digits(text, 11, 2), minute = Digits(text, 14, 2), second = Digits(text, 17, 2);
        if (year < 1 || month is < 1 or > 12 || day < 1 || day > System.DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 59)
            return false;
        long fractionTicks = 0;
        if (text[19] == '.')
        {
            var digits = 0;
            for (var i = 20; i < text.Length && char.IsAsciiDigit(text[i]); i++, digits++)
                if (digits < 7) fractionTicks = fractionTicks * 10 + (text[i] - '0'); // beyond 100 ns: truncated
            for (var i = Math.Min(digits, 7); i < 7; i++) fractionTicks *= 10;
        }
        var offset = TimeSpan.Zero;
        if (text[^1] != 'Z')
        {
            int offsetHours = Digits(text, text.Length - 5, 2), offsetMinutes = Digits(text, text.Length - 2, 2);
            if (offsetMinutes > 59 || offsetHours * 60 + offsetMinutes > 14 * 60) return false;
            offset = new TimeSpan(offsetHours, offsetMinutes, 0);
            if (text[^6] == '-') offset = -offset;
        }
        var utcTicks = new System.DateTime(year, month, day, hour, minute, second).Ticks + fractionTicks - offset.Ticks;
        if (utcTicks < System.DateTime.MinValue.Ticks || utcTicks > System.DateTime.MaxValue.Ticks) return false;
        value = new DateTimeOffset(utcTicks, TimeSpan.Zero);
        return true;
    }

    public static string DateTime(string? text, string what)
    {
        if (text is null || !TryParseDateTime(text, out _))
            throw NgsiException.BadRequestData($"{what} '{text}' is not a UTC date-time as ISO 8601 / RFC 3339 (e.g. 2024-05-01T12:00:00Z)");
        return text;
    }

    /// <summary>The broker's one timestamp format: UTC with milliseconds.</summary>
    /// <remarks>
    /// Written digit by digit: it is called for every stored instance's times on each read and each write, where the custom
    /// format string (parsed on every call) cost more than the rest of decoding a document's times. Same text as
    /// <c>ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", InvariantCulture)</c> of the UTC time (milliseconds truncated).
    /// </remarks>
    public static string Format(DateTimeOffset t) => string.Create(24, t.UtcDateTime, static (text, utc) =>
    {
        Digits(text[..4], utc.Year);
        text[4] = '-';
        Digits(text.Slice(5, 2), utc.Month);
        text[7] = '-';
        Digits(text.Slice(8, 2), utc.Day);
        text[10] = 'T';
        Digits(text.Slice(11, 2), utc.Hour);
        text[13] = ':';
        Digits(text.Slice(14, 2), utc.Minute);
        text[16] = ':';
        Digits(text.Slice(17, 2), utc.Second);
        text[19] = '.';
        Digits(text.Slice(20, 3), utc.Millisecond);
        text[23] = 'Z';
    });

    private static void Digits(Span<char> into, int value)
    {
        for (var i = into.Length - 1; i >= 0; i--, value /= 10) into[i] = (char)('0' + value % 10);
    }

}
