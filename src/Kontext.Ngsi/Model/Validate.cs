using System.Globalization;
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

    public static bool IsUri(string? value) => value is { Length: > 0 and <= 2048 } && UriPattern().IsMatch(value);

    public static string EntityId(string? id, string what = "entity id")
    {
        if (!IsUri(id)) throw NgsiException.BadRequestData($"The {what} '{id}' is not a valid URI");
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

    public static void Scope(string scope)
    {
        if (!ScopePattern().IsMatch(scope))
            throw NgsiException.BadRequestData($"Invalid scope '{scope}': a scope is a path such as /Madrid/Gardens");
    }

    public static bool TryParseDateTime(string text, out DateTimeOffset value) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value)
        && text.Contains('T');

    public static string DateTime(string? text, string what)
    {
        if (text is null || !TryParseDateTime(text, out _))
            throw NgsiException.BadRequestData($"{what} '{text}' is not an ISO 8601 date-time (e.g. 2024-05-01T12:00:00Z)");
        return text;
    }

    /// <summary>The broker's one timestamp format: UTC with milliseconds.</summary>
    public static string Format(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

}
