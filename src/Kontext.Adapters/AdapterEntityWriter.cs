using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;

namespace Kontext.Adapters;

/// <summary>
/// Writes mapped entities the way Batch Upsert with options=update does (UpsertBatch): the normalized entity is parsed by
/// <see cref="EntityParser"/> against its SDM subject @context — the shipped schemas/contexts/&lt;Subject&gt;.jsonld given
/// to the <see cref="ContextProcessor"/> as an inline context object, so nothing is fetched — and written per entity with
/// ITenantStore.WriteAsync: created when new, otherwise its attributes appended, overwriting those it has (so values
/// the uplink does not carry, and attributes others added, stay).
/// </summary>
public sealed class AdapterEntityWriter(IEntityStorage storage, ContextProcessor processor, SchemaRegistry schemas)
{
    private readonly ConcurrentDictionary<string, JsonLdContext> _contexts = new(StringComparer.Ordinal);

    public async Task<JsonLdContext> ContextAsync(string subject, CancellationToken cancellationToken)
    {
        if (_contexts.TryGetValue(subject, out var known)) return known;
        var document = schemas.ContextOf(subject) ?? throw new MappingException($"no @context for subject '{subject}' in the schema directory");
        var context = await processor.ProcessAsync(document, cancellationToken);
        _contexts[subject] = context;
        return context;
    }

    /// <summary>Parses every entity first (a parse error writes nothing), then writes them one by one.</summary>
    public async Task WriteAsync(string? tenant, IReadOnlyList<MappedEntity> entities, CancellationToken cancellationToken)
    {
        var parsed = new List<Entity>(entities.Count);
        foreach (var mapped in entities)
        {
            var context = await ContextAsync(mapped.Subject, cancellationToken);
            parsed.Add(EntityParser.ParseEntity(mapped.Normalized, context, ParseMode.Full));
        }
        var store = await storage.GetTenantAsync(tenant, create: true, cancellationToken)
                    ?? throw new InvalidOperationException($"tenant '{tenant}' could not be created");
        foreach (var entity in parsed)
        {
            await store.WriteAsync(entity.Id, EntityWrites.Upsert(entity, update: true), cancellationToken);
        }
    }

    /// <summary>The JSON-LD @context of a subject as a document, for clients that want to read adapter output with short names.</summary>
    public JsonObject? ContextDocument(string subject) =>
        schemas.ContextOf(subject) is { } context ? new JsonObject { ["@context"] = context.DeepClone() } : null;
}
