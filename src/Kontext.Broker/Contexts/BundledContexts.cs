using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kontext.Broker.Contexts;

/// <summary>
/// The smart-data-models @contexts shipped in schemas/contexts, found by their published URLs without the network (as the
/// NGSI-LD core context is, D2). schemas/contexts/contexts.json maps each canonical URL (smart-data-models.github.io,
/// raw.githubusercontent.com, smartdatamodels.org) to a file beside it; <see cref="RemoteContextLoader"/> asks here
/// before the store or the network. Kontext:Contexts:UseBundled=false turns the map off (every URL is then fetched).
/// <para>
/// The same files say which terms smart-data-models defines, for <see cref="DefaultVocabularyHint"/>: a type written without
/// its SDM context lands in the default vocabulary, where a query with the SDM context never finds it.
/// </para>
/// </summary>
public sealed class BundledContexts
{
    public const string MapFile = "contexts.json";
    private readonly string _directory;
    private readonly Dictionary<string, string> _files = new(StringComparer.Ordinal); // URL → file under _directory
    private readonly ConcurrentDictionary<string, string> _documents = new(StringComparer.Ordinal); // file → text
    private readonly Lazy<Dictionary<string, string>> _terms;

    public BundledContexts(string directory, bool enabled = true)
    {
        _directory = Path.GetFullPath(directory);
        _terms = new Lazy<Dictionary<string, string>>(IndexSubjectTerms);
        var map = Path.Combine(_directory, MapFile);
        if (!enabled || !File.Exists(map)) return;
        foreach (var (url, file) in JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(map)) ?? [])
        {
            var path = Path.GetFullPath(Path.Combine(_directory, file));
            // The map names files beside it, nothing else on the disk.
            if (path.StartsWith(_directory + Path.DirectorySeparatorChar, StringComparison.Ordinal) && File.Exists(path)) _files[url] = path;
        }
    }

    /// <summary>Every URL answered from the shipped files.</summary>
    public IReadOnlyCollection<string> Urls => _files.Keys;

    /// <summary>The shipped document (a JSON object with an @context member) for a URL, or null when none is shipped.</summary>
    public string? Find(string url) =>
        _files.TryGetValue(url, out var path) ? _documents.GetOrAdd(path, File.ReadAllText) : null;

    /// <summary>
    /// The URL of the smart-data-models subject @context that defines <paramref name="term"/> (its github.io form, as the
    /// SDM documentation gives it), or null. Only the per-subject contexts count: the legacy all-subjects context maps
    /// every term with other IRIs and is not what the SDM examples use.
    /// </summary>
    public string? SubjectContextDefining(string term) => _terms.Value.GetValueOrDefault(term);

    private Dictionary<string, string> IndexSubjectTerms()
    {
        var terms = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var urls in _files.GroupBy(f => f.Value, f => f.Key))
        {
            var subjectUrl = urls.Where(u => u.Contains("/dataModel.", StringComparison.Ordinal))
                .OrderBy(u => u.Contains("github.io", StringComparison.Ordinal) ? 0 : 1).ThenBy(u => u, StringComparer.Ordinal)
                .FirstOrDefault();
            if (subjectUrl is null) continue;
            if (JsonNode.Parse(Find(subjectUrl)!)?["@context"] is not JsonObject context) continue;
            foreach (var (term, _) in context)
                if (!term.StartsWith('@')) terms.TryAdd(term, subjectUrl);
        }
        return terms;
    }
}
