using System.Collections.Concurrent;
using System.Text.Json;
using Kontext.Ngsi.JsonLd;

namespace Kontext.Broker.Contexts;

/// <summary>
/// The smart-data-models pitfall, said out loud: an entity type sent without its SDM @context expands into the default
/// vocabulary (https://uri.etsi.org/ngsi-ld/default-context/AirQualityObserved), a different type from the SDM one
/// (https://smartdatamodels.org/dataModel.Environment/AirQualityObserved). The write succeeds, and a query with the SDM
/// context never finds the entity (nor one without it finds entities written with it). When a type term lands in the
/// default vocabulary while a shipped SDM context defines that term, the answer carries an NGSILD-Warning header (the
/// header the adapters use for their warnings) and the log says so once per term. The request is not refused: the
/// default vocabulary is legal NGSI-LD.
/// </summary>
internal static class DefaultVocabularyHint
{
    public const string Header = Adapters.IngestHttp.WarningHeader;
    private const int MaxLoggedTerms = 1000;
    private static readonly ConcurrentDictionary<string, byte> Logged = new(StringComparer.Ordinal);

    /// <summary>Checks the type(s) of an entity body against the active context of its request.</summary>
    public static void CheckEntity(HttpContext http, JsonElement entity, JsonLdContext context)
    {
        if (!entity.TryGetProperty("type", out var type)) return;
        if (type.ValueKind == JsonValueKind.String) Check(http, type.GetString()!, context, written: true);
        else if (type.ValueKind == JsonValueKind.Array)
            foreach (var item in type.EnumerateArray())
                if (item.ValueKind == JsonValueKind.String) Check(http, item.GetString()!, context, written: true);
    }

    /// <summary>Checks the names in a query's type expression (A,B;C|(D)).</summary>
    public static void CheckQueryTypes(HttpContext http, string? typeExpression, JsonLdContext context)
    {
        if (string.IsNullOrEmpty(typeExpression)) return;
        foreach (var name in typeExpression.Split([',', ';', '|', '(', ')'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            Check(http, name, context, written: false);
    }

    private static void Check(HttpContext http, string term, JsonLdContext context, bool written)
    {
        if (term.Contains(':')) return; // an IRI or a CURIE: the caller chose the namespace
        if (!context.ExpandTerm(term).StartsWith(CoreContext.DefaultVocab, StringComparison.Ordinal)) return;
        if (Http.BrokerServices.Of(http).GetService<BundledContexts>()?.SubjectContextDefining(term) is not { } sdm) return;
        var warning = written
            ? $"199 kontext \"Type '{term}' was expanded with the default vocabulary ({CoreContext.DefaultVocab}{term}), not the smart-data-models " +
              $"context that defines it; queries sent with <{sdm}> will not find this entity. Send that @context (Link header or body).\""
            : $"199 kontext \"Type '{term}' was expanded with the default vocabulary ({CoreContext.DefaultVocab}{term}); entities written with the " +
              $"smart-data-models context <{sdm}> are a different type and do not match. Send that @context in a Link header.\"";
        var existing = http.Response.Headers[Header].ToString();
        if (!existing.Contains($"Type '{term}'", StringComparison.Ordinal))
            http.Response.Headers[Header] = existing.Length == 0 ? warning : existing + ", " + warning;
        if (Logged.Count < MaxLoggedTerms && Logged.TryAdd(term, 0))
            Http.BrokerServices.Of(http).GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DefaultVocabularyHint))
                .LogWarning("Type {Type} was {Use} with the default vocabulary although the smart-data-models context {Context} defines it; " +
                            "entities and queries using that context will not meet it (reported once per type)", term, written ? "written" : "queried", sdm);
    }
}
