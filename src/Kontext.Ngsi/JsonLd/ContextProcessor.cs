using System.Text.Json.Nodes;
using Kontext.Ngsi.Errors;

namespace Kontext.Ngsi.JsonLd;

/// <summary>
/// Turns a caller's @context (URL, object or array, nested, with <c>@import</c>) into an active
/// <see cref="JsonLdContext"/>. Remote documents come from the loader; processed contexts are cached by the
/// context's text, so a repeated context costs one dictionary look-up. The cache is capped by count and by estimated
/// bytes (least recently used go first): inline contexts can be large, and every distinct one is an entry.
/// </summary>
public sealed class ContextProcessor(IContextDocumentLoader loader, int maxCachedContexts = 2_000, long maxCachedBytes = 64L * 1024 * 1024)
{
    private const int MaxDepth = 16;
    private static readonly Lazy<Dictionary<string, TermDefinition>> CoreTerms = new(() => BuildTerms(ToRaw(CoreContext.V19Terms), null));
    private static readonly Lazy<JsonLdContext> CoreOnly = new(() => new JsonLdContext(new(CoreTerms.Value), null, null));
    private readonly BoundedCache<JsonLdContext> _cache = new(maxCachedContexts, maxCachedBytes);

    /// <summary>Processed contexts held now (count and estimated bytes).</summary>
    public (int Count, long Bytes) CacheUsage => (_cache.Count, _cache.Weight);

    /// <summary>Forgets every processed context (after a context document was deleted or reloaded).</summary>
    public void Clear() => _cache.Clear();

    /// <summary>The active context when the caller gives none: the core context alone.</summary>
    public static JsonLdContext Core => CoreOnly.Value;

    /// <summary>The processed context when it needs no work (the core context, or one processed before and still cached).</summary>
    public bool TryGetProcessed(JsonNode? userContext, out JsonLdContext context)
    {
        if (userContext is null || IsCoreReference(userContext))
        {
            context = Core;
            return true;
        }
        return _cache.TryGet(userContext.ToJsonString(), out context!);
    }

    public async ValueTask<JsonLdContext> ProcessAsync(JsonNode? userContext, CancellationToken cancellationToken)
    {
        if (userContext is null || IsCoreReference(userContext)) return Core;
        var key = userContext.ToJsonString();
        if (_cache.TryGet(key, out var cached)) return cached;

        CheckShape(userContext, 0); // before any fetch: a malformed context is the caller's error, whatever the network does
        var collected = new Collected();
        await CollectAsync(userContext, collected, 0, new HashSet<string>(StringComparer.Ordinal), cancellationToken);
        var terms = BuildTerms(collected.Terms, collected.Vocab);
        foreach (var (term, def) in CoreTerms.Value) terms[term] = def; // the core context is applied last and wins
        var context = new JsonLdContext(terms, collected.Vocab is null ? null : ExpandVocab(collected.Vocab, terms), userContext.DeepClone());
        // The key string and the context's own copy of the caller's JSON (a tree: several bytes per character of text).
        _cache.Set(key, context, context.EstimatedBytes + 10L * key.Length);
        return context;
    }

    /// <summary>A context that only names the core context (any version) is the core context.</summary>
    private static bool IsCoreReference(JsonNode node) => node switch
    {
        JsonValue v when v.TryGetValue<string>(out var url) => CoreContext.IsCoreContextUrl(url),
        JsonArray a => a.All(e => e is not null && IsCoreReference(e)),
        _ => false,
    };

    /// <summary>
    /// A user @context is a URL, an object of term definitions or an array of these (JSON-LD 1.1 clause 3.1), and holds
    /// no scoped contexts (clause 5.5.7): a term definition carrying its own @context is refused.
    /// </summary>
    private static void CheckShape(JsonNode? node, int depth)
    {
        if (depth > MaxDepth) throw NgsiException.BadRequestData("@context nesting is too deep");
        switch (node)
        {
            case null:
            case JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.String:
                return;
            case JsonArray array:
                foreach (var item in array)
                {
                    if (item is JsonArray) throw NgsiException.BadRequestData("An @context array cannot hold another array");
                    CheckShape(item, depth + 1);
                }
                return;
            case JsonObject obj:
                foreach (var (term, definition) in obj)
                {
                    if (term.StartsWith('@')) continue;
                    if (definition is JsonObject d && d.ContainsKey("@context"))
                        throw NgsiException.BadRequestData($"The @context term '{term}' has a scoped context, which NGSI-LD does not allow in a user @context");
                    if (definition is not (null or JsonObject) && !(definition is JsonValue dv && dv.GetValueKind() == System.Text.Json.JsonValueKind.String))
                        throw NgsiException.BadRequestData($"The @context term '{term}' must be defined by an IRI string or an object");
                }
                return;
            default:
                throw NgsiException.BadRequestData("@context must be a URL, an object or an array of these");
        }
    }

    private sealed class Collected
    {
        public Dictionary<string, JsonNode?> Terms { get; } = new(StringComparer.Ordinal);
        public string? Vocab { get; set; }
    }

    private async ValueTask CollectAsync(JsonNode? node, Collected into, int depth, HashSet<string> loading, CancellationToken ct)
    {
        if (depth > MaxDepth) throw NgsiException.BadRequestData("@context nesting is too deep");
        switch (node)
        {
            case null:
                into.Terms.Clear(); // a null context resets the caller's terms; the core context still applies
                into.Vocab = null;
                break;
            case JsonValue value when value.TryGetValue<string>(out var url):
                if (CoreContext.IsCoreContextUrl(url)) return;
                if (!Uri.TryCreate(url, UriKind.Absolute, out var absolute) || absolute.Scheme is not ("http" or "https"))
                    throw NgsiException.BadRequestData($"@context entry '{url}' is not an absolute URL");
                if (!loading.Add(url)) throw NgsiException.BadRequestData($"@context '{url}' includes itself");
                var remote = await loader.LoadContextAsync(url, ct);
                await CollectAsync(remote, into, depth + 1, loading, ct);
                loading.Remove(url);
                break;
            case JsonArray array:
                foreach (var item in array) await CollectAsync(item, into, depth + 1, loading, ct);
                break;
            case JsonObject obj:
                if (obj.TryGetPropertyValue("@import", out var import) && import is JsonValue iv && iv.TryGetValue<string>(out var importUrl))
                    await CollectAsync(JsonValue.Create(importUrl), into, depth + 1, loading, ct);
                foreach (var (key, value) in obj)
                {
                    if (key == "@vocab")
                    {
                        into.Vocab = value is JsonValue vv && vv.TryGetValue<string>(out var vocab) && vocab.Length > 0 ? vocab : null;
                        continue;
                    }
                    if (key.StartsWith('@')) continue; // @version, @protected, @base, @language, @propagate, @import
                    into.Terms[key] = value?.DeepClone();
                }
                break;
            default:
                throw NgsiException.BadRequestData("@context must be a URL, an object or an array of these");
        }
    }

    private static Dictionary<string, JsonNode?> ToRaw(JsonObject context) =>
        context.Where(p => !p.Key.StartsWith('@')).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

    private static string ExpandVocab(string vocab, Dictionary<string, TermDefinition> terms)
    {
        var colon = vocab.IndexOf(':');
        if (colon > 0 && terms.TryGetValue(vocab[..colon], out var prefix)) return prefix.Iri + vocab[(colon + 1)..];
        return vocab;
    }

    /// <summary>Resolves raw term definitions to IRIs; prefixes may refer to terms defined anywhere in the same context.</summary>
    private static Dictionary<string, TermDefinition> BuildTerms(Dictionary<string, JsonNode?> raw, string? vocab)
    {
        var result = new Dictionary<string, TermDefinition>(StringComparer.Ordinal);
        var resolving = new HashSet<string>(StringComparer.Ordinal);

        TermDefinition? Resolve(string term)
        {
            if (result.TryGetValue(term, out var done)) return done;
            if (!raw.TryGetValue(term, out var node) || node is null) return null;
            if (!resolving.Add(term)) return null; // a cycle: leave the term undefined
            TermDefinition? def = null;
            switch (node)
            {
                case JsonValue v when v.TryGetValue<string>(out var iri):
                    def = new TermDefinition(ExpandIri(iri, term), CanBePrefix: EndsWithGenDelim(iri));
                    break;
                case JsonObject o:
                    var id = o["@id"] is JsonValue idv && idv.TryGetValue<string>(out var s) ? s : null;
                    var type = o["@type"] is JsonValue tv && tv.TryGetValue<string>(out var t) ? t : null;
                    var container = o["@container"] switch
                    {
                        JsonValue cv when cv.TryGetValue<string>(out var c) => c,
                        JsonArray ca => ca.Select(x => x?.GetValue<string>()).FirstOrDefault(x => x != "@set"),
                        _ => null,
                    };
                    var prefixFlag = o["@prefix"] is JsonValue pv && pv.TryGetValue<bool>(out var p) && p;
                    var expanded = id is null ? ExpandIri(term, null) : ExpandIri(id, term);
                    var typeMapping = type is null || type.StartsWith('@') ? type : ExpandIri(type, null);
                    def = new TermDefinition(expanded, typeMapping, container, prefixFlag);
                    break;
            }
            resolving.Remove(term);
            if (def is not null) result[term] = def;
            return def;
        }

        string ExpandIri(string value, string? definingTerm)
        {
            if (value.StartsWith('@')) return value;
            var colon = value.IndexOf(':');
            if (colon > 0)
            {
                var prefix = value[..colon];
                var suffix = value[(colon + 1)..];
                if (prefix == "_" || suffix.StartsWith("//", StringComparison.Ordinal)) return value;
                if (prefix != definingTerm && Resolve(prefix) is { } prefixDef && !prefixDef.Iri.StartsWith('@')) return prefixDef.Iri + suffix;
                return value;
            }
            if (value != definingTerm && Resolve(value) is { } other) return other.Iri;
            return (vocab ?? CoreContext.DefaultVocab) + value;
        }

        foreach (var term in raw.Keys) Resolve(term);
        return result;
    }

    private static bool EndsWithGenDelim(string iri) => iri.Length > 0 && ":/?#[]@".Contains(iri[^1]);
}
