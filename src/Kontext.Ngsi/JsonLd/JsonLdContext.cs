using System.Collections.Concurrent;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kontext.Ngsi.JsonLd;

/// <summary>
/// A processed, immutable active context: the caller's terms with the NGSI-LD core terms applied last.
/// Expands terms to IRIs (term definitions, CURIEs, <c>@vocab</c>, default vocabulary) and compacts IRIs back
/// to the caller's terms (exact term, shortest first; then vocabulary-relative; then CURIE; else the IRI).
/// </summary>
public sealed class JsonLdContext
{
    private readonly Dictionary<string, TermDefinition> _terms;
    private readonly string? _userVocab;
    private readonly Dictionary<string, string> _inverse;
    private readonly (string Prefix, string Iri)[] _prefixes;
    private readonly ConcurrentDictionary<string, string> _expanded = new();
    private readonly ConcurrentDictionary<string, Compacted> _compacted = new();

    /// <summary>A compacted term, and its JSON text when no encoder escapes any of it (see <see cref="CompactedName"/>).</summary>
    private sealed record Compacted(string Term, JsonEncodedText? Text);

    internal JsonLdContext(Dictionary<string, TermDefinition> terms, string? userVocab, JsonNode? userContext)
    {
        _terms = terms;
        _userVocab = userVocab;
        UserContext = userContext;
        _inverse = new Dictionary<string, string>(StringComparer.Ordinal);
        var prefixes = new List<(string, string)>();
        foreach (var (term, def) in terms)
        {
            if (def.Iri.StartsWith('@')) continue;
            if (!_inverse.TryGetValue(def.Iri, out var existing) || IsBetterTerm(term, existing))
                _inverse[def.Iri] = term;
            if (def.CanBePrefix) prefixes.Add((term, def.Iri));
        }
        _prefixes = prefixes.ToArray();
        long termBytes = 0;
        foreach (var (term, def) in terms) termBytes += 2L * (term.Length + def.Iri.Length) + 160;
        EstimatedBytes = 2 * termBytes + 2L * MemoLimit * 200 + MemoLimit * CompactedTextBytes;
    }

    // Expansions and compactions remembered per context: enough for any real vocabulary in use, small enough that a
    // client sending endless new names cannot grow a cached context much (counted in EstimatedBytes).
    private const int MemoLimit = 1024;

    /// <summary>What a compaction's JSON text adds to its memo entry (the record, the encoded bytes and string).</summary>
    private const long CompactedTextBytes = 160;

    /// <summary>
    /// Rough size in memory, for caches capped by bytes: the term tables (core terms included) and the most the
    /// expansion memos can grow to. The caller's context tree is not counted (its text length is known to the cache).
    /// </summary>
    public long EstimatedBytes { get; private init; }

    /// <summary>The caller's @context exactly as given (URL, object or array); null when only the core context applies.</summary>
    public JsonNode? UserContext { get; }

    /// <summary>True when the caller supplied no context of their own (only the core context applies).</summary>
    public bool IsCoreOnly => UserContext is null;

    public TermDefinition? Find(string term) => _terms.GetValueOrDefault(term);

    /// <summary>Vocabulary-relative IRI expansion, as used for attribute names, entity types and VocabProperty values.</summary>
    public string ExpandTerm(string term)
    {
        if (_expanded.TryGetValue(term, out var cached)) return cached;
        var iri = ExpandUncached(term);
        if (_expanded.Count < MemoLimit) _expanded[term] = iri;
        return iri;
    }

    private string ExpandUncached(string term)
    {
        if (term.Length == 0 || term[0] == '@') return term;
        if (_terms.TryGetValue(term, out var def)) return def.Iri;
        var colon = term.IndexOf(':');
        if (colon > 0)
        {
            var prefix = term[..colon];
            var suffix = term[(colon + 1)..];
            if (prefix == "_" || suffix.StartsWith("//", StringComparison.Ordinal)) return term;
            if (_terms.TryGetValue(prefix, out var prefixDef) && !prefixDef.Iri.StartsWith('@')) return prefixDef.Iri + suffix;
            return term; // an absolute IRI such as urn:... or http://...
        }
        return (_userVocab ?? CoreContext.DefaultVocab) + term;
    }

    /// <summary>IRI compaction to the caller's preferred term.</summary>
    public string CompactIri(string iri) => Compact(iri).Term;

    /// <summary>
    /// <see cref="CompactIri"/> as JSON text ready to write (a property name or string without transcoding or an escaping
    /// check), or null when the term holds a character some encoder escapes: then the writer's own encoder must write it.
    /// </summary>
    public JsonEncodedText? CompactedName(string iri) => Compact(iri).Text;

    private Compacted Compact(string iri)
    {
        if (_compacted.TryGetValue(iri, out var cached)) return cached;
        var term = CompactUncached(iri);
        // The default encoder escapes the most (all but printable ASCII outside of HTML's): what it leaves alone, any writer does.
        var text = JsonEncodedText.Encode(term, JavaScriptEncoder.Default);
        var compacted = new Compacted(term, text.ToString() == term ? text : null);
        if (_compacted.Count < MemoLimit) _compacted[iri] = compacted;
        return compacted;
    }

    private string CompactUncached(string iri)
    {
        if (_inverse.TryGetValue(iri, out var term)) return term;
        foreach (var vocab in VocabsInOrder())
        {
            if (iri.Length > vocab.Length && iri.StartsWith(vocab, StringComparison.Ordinal))
            {
                var rest = iri[vocab.Length..];
                // Only when the short form would expand back to the same IRI.
                if (!rest.Contains(':') && !_terms.ContainsKey(rest) && ExpandTerm(rest) == iri) return rest;
            }
        }
        string? best = null;
        foreach (var (prefix, prefixIri) in _prefixes)
        {
            if (iri.Length <= prefixIri.Length || !iri.StartsWith(prefixIri, StringComparison.Ordinal)) continue;
            var curie = prefix + ":" + iri[prefixIri.Length..];
            if (_terms.ContainsKey(curie)) continue;
            if (best is null || IsBetterTerm(curie, best)) best = curie;
        }
        return best ?? iri;
    }

    private IEnumerable<string> VocabsInOrder()
    {
        if (_userVocab is not null) yield return _userVocab;
        yield return CoreContext.DefaultVocab;
    }

    // JSON-LD's inverse-context preference: the shortest term, then the lexicographically least.
    private static bool IsBetterTerm(string candidate, string current) =>
        candidate.Length < current.Length || (candidate.Length == current.Length && string.CompareOrdinal(candidate, current) < 0);
}
