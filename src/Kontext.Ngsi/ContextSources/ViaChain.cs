namespace Kontext.Ngsi.ContextSources;

/// <summary>
/// The Via header of a request (clause 6.3.18, after IETF RFC 9110 clause 7.6.3): "1.1 alias-a, 1.1 alias-b". Each
/// broker that forwards a request appends its contextSourceAlias, so the aliases tell which brokers it already passed.
/// </summary>
public static class ViaChain
{
    /// <summary>The received-by names of every hop (comments and protocol names left out).</summary>
    public static IReadOnlySet<string> Aliases(IEnumerable<string?> headers)
    {
        var aliases = new HashSet<string>(StringComparer.Ordinal);
        foreach (var header in headers)
        {
            if (string.IsNullOrWhiteSpace(header)) continue;
            foreach (var hop in header.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var parts = hop.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                // "1.1 alias (comment)": the second token; a bare "alias" is accepted too.
                var alias = parts.Length >= 2 ? parts[1] : parts.Length == 1 ? parts[0] : null;
                if (alias is not null) aliases.Add(alias);
            }
        }
        return aliases;
    }
}
