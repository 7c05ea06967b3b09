using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using NJsonSchema;
using NJsonSchema.References;
using NJsonSchema.Validation;

namespace Kontext.Adapters;

/// <summary>One schema violation: where (a JSON path in the keyValues form of the entity) and what.</summary>
public sealed record SchemaFinding(string Path, string Kind, string Message)
{
    public override string ToString() => $"{Path}: {Message}";
}

/// <summary>
/// Smart-data-models JSON Schemas from a directory laid out as &lt;Subject&gt;/&lt;Model&gt;/schema.json, with a refs.json
/// (absolute URL → file relative to the directory) that resolves every external $ref offline; a $ref to a URL that is not
/// in the map fails the schema's loading rather than going to the network. The SDM @context of a subject is
/// contexts/&lt;Subject&gt;.jsonld when present. Schemas describe the keyValues shape: entities are validated in that form.
/// </summary>
public sealed class SchemaRegistry
{
    private readonly string _root;
    private readonly Dictionary<string, string> _refs;
    private readonly Dictionary<string, (string Subject, string Path)> _models = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<JsonSchema>>> _schemas = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _contextFiles = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, JsonObject?> _contexts = new(StringComparer.Ordinal);

    public SchemaRegistry(string root)
    {
        _root = Path.GetFullPath(root);
        var refsFile = Path.Combine(_root, "refs.json");
        _refs = File.Exists(refsFile)
            ? JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(refsFile)) ?? []
            : [];
        if (!Directory.Exists(_root)) return;
        var contexts = Path.Combine(_root, "contexts");
        if (Directory.Exists(contexts))
            foreach (var file in Directory.EnumerateFiles(contexts, "*.jsonld"))
                _contextFiles[Path.GetFileNameWithoutExtension(file)] = file;
        foreach (var file in Directory.EnumerateFiles(_root, "schema.json", SearchOption.AllDirectories))
        {
            var model = Path.GetFileName(Path.GetDirectoryName(file)!);
            var subject = Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(file))!);
            _models.TryAdd(model, (subject, file));
        }
    }

    public string Root => _root;

    /// <summary>The entity types that have a schema.</summary>
    public IReadOnlyCollection<string> Types => _models.Keys;

    public bool HasSchema(string type) => _models.ContainsKey(type);

    /// <summary>The smart-data-models subject of a type (Environment for FloodMonitoring), or null when it has no schema.</summary>
    public string? SubjectOf(string type) => _models.TryGetValue(type, out var m) ? m.Subject : null;

    /// <summary>
    /// The SDM @context object of a subject, read from contexts/&lt;Subject&gt;.jsonld (its "@context" member); null when not
    /// shipped. Only shipped subjects are read and remembered: a request naming anything else leaves nothing behind.
    /// </summary>
    public JsonObject? ContextOf(string subject) => _contextFiles.TryGetValue(subject, out var file)
        ? _contexts.GetOrAdd(subject, _ => JsonNode.Parse(File.ReadAllText(file))?["@context"] as JsonObject)
        : null;

    /// <summary>Subjects whose @context is held in memory (at most the shipped ones).</summary>
    internal int CachedContextCount => _contexts.Count;

    public Task<JsonSchema> SchemaAsync(string type)
    {
        if (!_models.TryGetValue(type, out var model)) throw new KeyNotFoundException($"No schema for type '{type}'");
        return _schemas.GetOrAdd(type, _ => new Lazy<Task<JsonSchema>>(() => LoadAsync(model.Path))).Value;
    }

    /// <summary>Validates a keyValues entity; an empty list means valid. A type without a schema is valid (nothing to check).</summary>
    public async Task<IReadOnlyList<SchemaFinding>> ValidateAsync(string type, JsonObject keyValues)
    {
        if (!HasSchema(type)) return [];
        var schema = await SchemaAsync(type);
        var errors = new JsonSchemaValidator().Validate(keyValues.ToJsonString(), schema);
        var findings = new List<SchemaFinding>();
        Flatten(errors, findings);
        return findings.DistinctBy(f => (f.Path, f.Kind)).ToList();
    }

    private static void Flatten(IEnumerable<ValidationError> errors, List<SchemaFinding> into)
    {
        foreach (var error in errors)
        {
            if (error is ChildSchemaValidationError child && child.Errors.Count > 0)
            {
                // allOf / anyOf: report the innermost findings (those name the property), not the wrapper.
                var before = into.Count;
                foreach (var nested in child.Errors.Values) Flatten(nested, into);
                if (into.Count > before) continue;
            }
            var path = string.IsNullOrEmpty(error.Path) ? "#" : error.Path!;
            into.Add(new SchemaFinding(path, error.Kind.ToString(), Describe(error)));
        }
    }

    private static string Describe(ValidationError error) => error.Kind switch
    {
        ValidationErrorKind.PropertyRequired => $"required property '{error.Property}' is missing",
        ValidationErrorKind.NumberTooBig => $"'{error.Property}' is above the schema maximum",
        ValidationErrorKind.NumberTooSmall => $"'{error.Property}' is below the schema minimum",
        _ => $"{error.Kind} at '{error.Property ?? error.Path}'",
    };

    private Task<JsonSchema> LoadAsync(string path)
    {
        // Every document of one load shares a table (URL → schema), filled as soon as a document is parsed and before its
        // own $refs are resolved: self-references and cycles between documents find it there instead of loading again.
        var shared = new ConcurrentDictionary<string, IJsonReference>(StringComparer.Ordinal);
        var url = _refs.FirstOrDefault(r => Path.GetFullPath(Path.Combine(_root, r.Value)) == Path.GetFullPath(path)).Key;
        return JsonSchema.FromJsonAsync(File.ReadAllText(path), path, schema =>
        {
            if (url is not null) shared[url] = schema;
            return new OfflineResolver(schema, this, shared);
        }, CancellationToken.None);
    }

    /// <summary>Resolves external $refs through refs.json only: never the network, never a file outside the map.</summary>
    private sealed class OfflineResolver : JsonReferenceResolver
    {
        private readonly SchemaRegistry _registry;
        private readonly ConcurrentDictionary<string, IJsonReference> _shared;

        public OfflineResolver(JsonSchema root, SchemaRegistry registry, ConcurrentDictionary<string, IJsonReference> shared)
            : base(new JsonSchemaAppender(root, new DefaultTypeNameGenerator()))
        {
            _registry = registry;
            _shared = shared;
        }

        public override async Task<IJsonReference> ResolveUrlReferenceAsync(string url, CancellationToken cancellationToken)
        {
            var document = url.Split('#')[0];
            if (_shared.TryGetValue(document, out var known)) return known;
            if (!_registry._refs.TryGetValue(document, out var relative))
                throw new InvalidOperationException($"Schema $ref '{url}' is not in refs.json (offline resolution only)");
            var file = Path.Combine(_registry._root, relative);
            return await JsonSchema.FromJsonAsync(await File.ReadAllTextAsync(file, cancellationToken), file, schema =>
            {
                _shared[document] = schema;
                return new OfflineResolver(schema, _registry, _shared);
            }, cancellationToken);
        }

        public override Task<IJsonReference> ResolveFileReferenceAsync(string filePath, CancellationToken cancellationToken)
        {
            var full = Path.GetFullPath(filePath);
            if (!full.StartsWith(_registry._root, StringComparison.Ordinal))
                throw new InvalidOperationException($"Schema $ref to '{filePath}' is outside the schema directory");
            return base.ResolveFileReferenceAsync(full, cancellationToken);
        }
    }
}
