using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace Kontext.Ngsi.Query;

/// <summary>
/// Client-supplied regular expressions (q <c>~=</c>, idPattern) compiled so that no pattern can hang the broker:
/// the linear-time NonBacktracking engine when the pattern allows it, otherwise a match timeout.
/// Compiled patterns are cached because subscriptions evaluate the same query over and over.
/// </summary>
public static class SafeRegex
{
    private static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(100);
    private const int MaxCached = 1_000;
    private static readonly ConcurrentDictionary<string, Regex> Cache = new(StringComparer.Ordinal);

    /// <summary>Compiles the pattern, or returns the reason it is invalid.</summary>
    public static bool TryGet(string pattern, out Regex regex, out string? error)
    {
        error = null;
        if (Cache.TryGetValue(pattern, out regex!)) return true;
        try
        {
            regex = Compile(pattern);
        }
        catch (ArgumentException e)
        {
            error = e.Message;
            return false;
        }
        if (Cache.Count >= MaxCached) Cache.Clear();
        Cache[pattern] = regex;
        return true;
    }

    /// <summary>True when the pattern matches somewhere in the input; a pattern that times out does not match.</summary>
    public static bool IsMatch(string pattern, string input)
    {
        if (!TryGet(pattern, out var regex, out _)) return false;
        try
        {
            return regex.IsMatch(input);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }

    private static Regex Compile(string pattern)
    {
        try
        {
            // Linear in the input, so it needs no timeout; one would also count the lazy build of its automaton on the
            // first match, which on a loaded machine can take longer than the timeout and make a match fail at random.
            return new Regex(pattern, RegexOptions.NonBacktracking | RegexOptions.CultureInvariant, Regex.InfiniteMatchTimeout);
        }
        catch (NotSupportedException)
        {
            // Look-arounds and back-references need the backtracking engine; the timeout bounds them.
            return new Regex(pattern, RegexOptions.CultureInvariant, MatchTimeout);
        }
    }
}
