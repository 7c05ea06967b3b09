using System.Text;

namespace Kontext.Storage.Mongo;

/// <summary>
/// Field names in stored documents. Attribute names are IRIs ("https://example.org/a.b#c$d") and MongoDB reads '.' as a
/// path separator and reserves a leading '$', so every key written from NGSI-LD data is percent-encoded: '%' → %25,
/// '.' → %2E, '$' → %24. The encoding is reversible, ASCII, and leaves ordinary IRIs readable in the shell.
/// Paths in filters (q sub-attributes a.b, compound a[b.c]) are built from encoded segments joined by real dots.
/// </summary>
public static class MongoKeys
{
    public static string Encode(string key)
    {
        if (key.AsSpan().IndexOfAny('%', '.', '$') < 0) return key;
        var sb = new StringBuilder(key.Length + 8);
        foreach (var c in key)
        {
            sb.Append(c switch { '%' => "%25", '.' => "%2E", '$' => "%24", _ => c.ToString() });
        }
        return sb.ToString();
    }

    public static string Decode(string key)
    {
        if (!key.Contains('%')) return key;
        var sb = new StringBuilder(key.Length);
        for (var i = 0; i < key.Length; i++)
        {
            if (key[i] == '%' && i + 2 < key.Length)
            {
                var code = key.Substring(i + 1, 2);
                var decoded = code switch { "25" => '%', "2E" => '.', "24" => '$', _ => '\0' };
                if (decoded != '\0') { sb.Append(decoded); i += 2; continue; }
            }
            sb.Append(key[i]);
        }
        return sb.ToString();
    }

    /// <summary>A dotted path from raw segments, each encoded.</summary>
    public static string Path(params IEnumerable<string> segments) => string.Join('.', segments.Select(Encode));
}
