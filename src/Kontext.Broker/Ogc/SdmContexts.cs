using Kontext.Adapters;
using Kontext.Ngsi.JsonLd;

namespace Kontext.Broker.Ogc;

/// <summary>
/// The smart-data-models @contexts the broker ships (schemas/contexts, read by the adapters' <see cref="SchemaRegistry"/>
/// and processed once by <see cref="AdapterEntityWriter"/>): an entity type is named and its attributes compacted with
/// the context of the subject that defines the type, so GIS users see FloodMonitoring and currentLevel, not IRIs.
/// </summary>
internal sealed class SdmContexts(SchemaRegistry schemas, AdapterEntityWriter adapterContexts)
{
    private Task<IReadOnlyList<JsonLdContext>>? _subjects;

    /// <summary>The context that defines the type's short name (true), or the core context (false).</summary>
    public async Task<(JsonLdContext Context, bool Defines)> ForTypeAsync(string typeIri, CancellationToken cancellationToken)
    {
        foreach (var context in await SubjectsAsync(cancellationToken))
        {
            var term = context.CompactIri(typeIri);
            if (term != typeIri && context.Find(term)?.Iri == typeIri) return (context, true);
        }
        return (ContextProcessor.Core, false);
    }

    // Loaded once, whoever asks first; not cancelled with that request, as every later one shares the result.
    private Task<IReadOnlyList<JsonLdContext>> SubjectsAsync(CancellationToken cancellationToken) =>
        (_subjects ??= LoadAsync(CancellationToken.None)).WaitAsync(cancellationToken);

    private async Task<IReadOnlyList<JsonLdContext>> LoadAsync(CancellationToken cancellationToken)
    {
        var subjects = schemas.Types.Select(schemas.SubjectOf).OfType<string>().Distinct(StringComparer.Ordinal)
            .Where(s => schemas.ContextOf(s) is not null).Order(StringComparer.Ordinal);
        var contexts = new List<JsonLdContext>();
        foreach (var subject in subjects) contexts.Add(await adapterContexts.ContextAsync(subject, cancellationToken));
        return contexts;
    }
}
