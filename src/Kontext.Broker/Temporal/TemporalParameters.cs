using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Broker.Http;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Formats;
using Kontext.Ngsi.Temporal;

namespace Kontext.Broker.Temporal;

/// <summary>
/// The temporal parameters of one request: the TemporalQuery, the representation and its render options, and the
/// datasetId filter (clause 4.5.5: "@none" names the default instance; null reads every instance).
/// </summary>
internal sealed record TemporalParameters(TemporalQuery Query, TemporalRenderOptions Render, IReadOnlySet<string?>? DatasetIds)
{
    private static readonly HashSet<string> AllowedOptions = new(StringComparer.Ordinal) { "temporalValues", "aggregatedValues", "sysAttrs", "normalized" };

    /// <summary>From the URL (GET): timerel, timeAt, endTimeAt, timeproperty, lastN, aggrMethods, aggrPeriodDuration, format, options, attrs, pick, omit, lang, datasetId.</summary>
    public static TemporalParameters FromUrl(NgsiRequest request, List<string>? attrs = null)
    {
        var q = request.Query;
        var query = TemporalQuery.Parse(Text(q["timerel"]), Text(q["timeAt"]), Text(q["endTimeAt"]), Text(q["timeproperty"]), Text(q["lastN"]));
        return Build(request, query, QueryParameters.List(request, "aggrMethods"), Text(q["aggrPeriodDuration"]), attrs ?? QueryParameters.List(request, "attrs"), aggregateByDefault: false);
    }

    /// <summary>
    /// From a Query body (POST /temporal/entityOperations/query): its temporalQ (clause 5.2.21) and aggrParams
    /// (5.2.44); format and options stay in the URL. Aggregation methods in the body ask for the Aggregated Temporal
    /// Representation unless the URL chose another one.
    /// </summary>
    public static TemporalParameters FromBody(NgsiRequest request, JsonObject body, List<string> attrs)
    {
        var temporalQ = Member(body, "temporalQ");
        var aggrParams = Member(body, "aggrParams");
        var query = temporalQ is null
            ? TemporalQuery.All
            : TemporalQuery.Parse(Text(temporalQ, "timerel"), Text(temporalQ, "timeAt"), Text(temporalQ, "endTimeAt"), Text(temporalQ, "timeproperty"), Text(temporalQ, "lastN"));
        var methodsNode = aggrParams?["aggrMethods"] ?? temporalQ?["aggrMethods"];
        var methods = methodsNode is null ? QueryParameters.List(request, "aggrMethods") : Methods(methodsNode);
        var period = (aggrParams is null ? null : Text(aggrParams, "aggrPeriodDuration"))
                     ?? (temporalQ is null ? null : Text(temporalQ, "aggrPeriodDuration"))
                     ?? Text(request.Query["aggrPeriodDuration"]);
        return Build(request, query, methods, period, attrs, aggregateByDefault: methodsNode is not null);
    }

    private static TemporalParameters Build(NgsiRequest request, TemporalQuery query, List<string> methodNames, string? period, List<string> attrs, bool aggregateByDefault)
    {
        var options = QueryParameters.List(request, "options");
        foreach (var option in options)
        {
            if (!AllowedOptions.Contains(option))
                throw NgsiException.InvalidRequest($"Unknown value '{option}' in options (allowed: {string.Join(", ", AllowedOptions)})");
        }
        var format = Representation(request, options, aggregateByDefault);
        IReadOnlyList<AggregationMethod>? methods = null;
        IsoDuration? duration = null;
        if (format == TemporalFormat.AggregatedValues)
        {
            methods = Aggregation.ParseMethods(methodNames);
            duration = period is null ? IsoDuration.Zero : IsoDuration.Parse(period);
        }
        else if (period is not null) IsoDuration.Parse(period); // still validated
        var render = new RenderOptions(RenderFormat.Normalized, options.Contains("sysAttrs"),
            LanguageSelector.Parse(request.Query["lang"].ToString()), TemporalProjection.Read(request, attrs));
        return new TemporalParameters(query, new TemporalRenderOptions(format, render, query, methods, duration), ReadDatasetIds(request));
    }

    /// <summary>The representation: the format parameter takes precedence over options (clause 6.3.20).</summary>
    private static TemporalFormat Representation(NgsiRequest request, List<string> options, bool aggregateByDefault)
    {
        var format = request.Query["format"].ToString();
        if (format.Length > 0)
        {
            return format switch
            {
                "normalized" => TemporalFormat.Normalized,
                "temporalValues" or "simplified" or "keyValues" => TemporalFormat.TemporalValues,
                "aggregatedValues" => TemporalFormat.AggregatedValues,
                _ => throw NgsiException.InvalidRequest($"Unknown format '{format}' (normalized, temporalValues, aggregatedValues)"),
            };
        }
        var temporalValues = options.Contains("temporalValues");
        var aggregatedValues = options.Contains("aggregatedValues");
        if (temporalValues && aggregatedValues) throw NgsiException.BadRequestData("options temporalValues and aggregatedValues exclude each other");
        if (temporalValues) return TemporalFormat.TemporalValues;
        if (aggregatedValues || (aggregateByDefault && !options.Contains("normalized"))) return TemporalFormat.AggregatedValues;
        return TemporalFormat.Normalized;
    }

    /// <summary>datasetId=a,b,@none (clause 4.5.5): the instances with one of these datasetIds, @none being the default instance.</summary>
    private static HashSet<string?>? ReadDatasetIds(NgsiRequest request)
    {
        var values = QueryParameters.List(request, "datasetId");
        if (values.Count == 0) return null;
        var set = new HashSet<string?>();
        foreach (var value in values)
            set.Add(value == "@none" ? null : Kontext.Ngsi.Model.Validate.EntityId(value, "datasetId"));
        return set;
    }

    private static JsonObject? Member(JsonObject body, string name) => body[name] switch
    {
        null => null,
        JsonObject o => o,
        _ => throw NgsiException.BadRequestData($"'{name}' must be an object"),
    };

    /// <summary>aggrMethods as a comma-separated string or an array of strings (clause 5.2.21, 5.2.44).</summary>
    private static List<string> Methods(JsonNode node) => node switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList(),
        JsonArray a when a.All(e => e is JsonValue ev && ev.GetValueKind() == JsonValueKind.String) => a.Select(e => e!.GetValue<string>()).ToList(),
        _ => throw NgsiException.BadRequestData("aggrMethods must be a string or an array of strings"),
    };

    private static string? Text(JsonObject member, string name) => member[name] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.ToJsonString(),
        _ => throw NgsiException.BadRequestData($"{name} must be a string"),
    };

    private static string? Text(Microsoft.Extensions.Primitives.StringValues values) => values.Count == 0 ? null : values.ToString();
}
