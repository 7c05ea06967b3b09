using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Broker.Http;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Formats;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using Kontext.Ngsi.Temporal;

namespace Kontext.Broker.Temporal;

/// <summary>The temporal parameters of one request: the TemporalQuery, the representation and its render options.</summary>
internal sealed record TemporalParameters(TemporalQuery Query, TemporalRenderOptions Render)
{
    private static readonly string[] AllowedOptions = ["temporalValues", "aggregatedValues", "sysAttrs", "normalized"];

    /// <summary>From the URL (GET): timerel, timeAt, endTimeAt, timeproperty, lastN, aggrMethods, aggrPeriodDuration, options, attrs, pick, omit, lang.</summary>
    public static TemporalParameters FromUrl(NgsiRequest request, List<string>? attrs = null)
    {
        var q = request.Query;
        var query = TemporalQuery.Parse(Text(q["timerel"]), Text(q["timeAt"]), Text(q["endTimeAt"]), Text(q["timeproperty"]), Text(q["lastN"]));
        return Build(request, query, QueryParameters.List(request, "aggrMethods"), Text(q["aggrPeriodDuration"]), attrs ?? QueryParameters.List(request, "attrs"));
    }

    /// <summary>From a Query body's temporalQ member (POST /temporal/entityOperations/query); options stay in the URL.</summary>
    public static TemporalParameters FromBody(NgsiRequest request, JsonObject? temporalQ, List<string> attrs)
    {
        if (temporalQ is null) return Build(request, TemporalQuery.All, QueryParameters.List(request, "aggrMethods"), Text(request.Query["aggrPeriodDuration"]), attrs);
        string? Member(string name) => temporalQ[name] switch
        {
            null => null,
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.ToJsonString(),
            _ => throw NgsiException.BadRequestData($"temporalQ.{name} must be a string"),
        };
        var query = TemporalQuery.Parse(Member("timerel"), Member("timeAt"), Member("endTimeAt"), Member("timeproperty"), Member("lastN"));
        var methods = temporalQ["aggrMethods"] switch
        {
            null => QueryParameters.List(request, "aggrMethods"),
            JsonValue v when v.TryGetValue<string>(out var s) => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList(),
            JsonArray a when a.All(e => e is JsonValue ev && ev.GetValueKind() == JsonValueKind.String) => a.Select(e => e!.GetValue<string>()).ToList(),
            _ => throw NgsiException.BadRequestData("temporalQ.aggrMethods must be a string or an array of strings"),
        };
        return Build(request, query, methods, Member("aggrPeriodDuration") ?? Text(request.Query["aggrPeriodDuration"]), attrs);
    }

    private static TemporalParameters Build(NgsiRequest request, TemporalQuery query, List<string> methodNames, string? period, List<string> attrs)
    {
        var options = QueryParameters.Options(request, AllowedOptions);
        var format = request.Query["format"].ToString() switch
        {
            "" or "normalized" => TemporalFormat.Normalized,
            "temporalValues" or "simplified" or "keyValues" => TemporalFormat.TemporalValues,
            "aggregatedValues" => TemporalFormat.AggregatedValues,
            var other => throw NgsiException.BadRequestData($"Unknown format '{other}' (normalized, temporalValues, aggregatedValues)"),
        };
        if (options.Contains("temporalValues")) format = TemporalFormat.TemporalValues;
        if (options.Contains("aggregatedValues")) format = TemporalFormat.AggregatedValues;
        if (options.Contains("temporalValues") && options.Contains("aggregatedValues"))
            throw NgsiException.BadRequestData("options temporalValues and aggregatedValues exclude each other");
        IReadOnlyList<AggregationMethod>? methods = null;
        IsoDuration? duration = null;
        if (format == TemporalFormat.AggregatedValues)
        {
            methods = Aggregation.ParseMethods(methodNames);
            duration = period is null ? IsoDuration.Zero : IsoDuration.Parse(period);
        }
        else if (period is not null) IsoDuration.Parse(period); // still validated
        var render = new RenderOptions(RenderFormat.Normalized, options.Contains("sysAttrs"),
            LanguageSelector.Parse(request.Query["lang"].ToString()), QueryParameters.Projection(request, attrs));
        return new TemporalParameters(query, new TemporalRenderOptions(format, render, query, methods, duration));
    }

    private static string? Text(Microsoft.Extensions.Primitives.StringValues values) => values.Count == 0 ? null : values.ToString();
}

/// <summary>One temporal entity to answer with: its id/type/scope and, when deleted through the entity API, deletedAt.</summary>
internal sealed record TemporalHead(Entity Entity, DateTimeOffset? DeletedAt);

/// <summary>
/// Reads the instances of a page of entities in one store call and writes them, paginating instances as clause 6.3.10
/// says: 206 Partial Content with Content-Range "date-time start-end/size" (forwards without lastN, backwards with it)
/// and a Link rel="next" with the follow-up request.
/// </summary>
internal static class TemporalResponse
{
    public static async Task WriteAsync(NgsiRequest request, ITemporalStore store, IReadOnlyList<TemporalHead> heads, TemporalParameters parameters, bool single)
    {
        var http = request.Http;
        var query = parameters.Query;
        var render = parameters.Render;
        var instanceLimit = TemporalRoutes.InstanceLimit(http);
        var aggregated = render.Format == TemporalFormat.AggregatedValues;
        if (aggregated && render.Period is { Years: 0, Months: 0 } period && period.Time.Ticks % TimeSpan.TicksPerMillisecond == 0
            && query.TimeProperty is TemporalTimeProperty.ObservedAt or TemporalTimeProperty.CreatedAt)
        {
            await WriteAggregatedInStoreAsync(request, store, heads, parameters, period, single);
            return;
        }
        var backward = query.LastN is not null && !aggregated;
        var pageSize = aggregated ? int.MaxValue - 1 : Math.Min(query.LastN ?? instanceLimit, instanceLimit);
        var paging = !aggregated && (query.LastN is null || query.LastN > instanceLimit);

        var read = await store.ReadInstancesAsync(new TemporalReadRequest(
            heads.Select(h => h.Entity.Id).ToList(), render.Render.Fields.Only, query.TimeProperty,
            query.From, query.FromInclusive, query.To, paging ? pageSize + 1 : pageSize, backward), http.RequestAborted);

        // The store returns ascending order per (entity, attribute); the cut wants read order.
        var groups = read.GroupBy(i => (i.Record.EntityId, i.Record.Attribute))
            .Select(g => (IReadOnlyList<TemporalInstance>)(backward ? g.Reverse().ToList() : g.ToList())).ToList();
        List<List<TemporalInstance>> pages;
        TemporalCut? cut = null;
        if (paging) (pages, cut) = TemporalPaging.Cut(groups, pageSize, backward);
        else pages = groups.Select(g => (backward ? g.Reverse() : g).ToList()).ToList();
        var byEntity = pages.SelectMany(p => p).GroupBy(i => i.Record.EntityId).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);

        var status = StatusCodes.Status200OK;
        if (cut is not null)
        {
            status = StatusCodes.Status206PartialContent;
            WritePagingHeaders(http, query, cut);
        }
        await WriteEntitiesAsync(request, status, render, heads, single, (renderer, writer, head, bodyContext) =>
            renderer.WriteEntity(writer, head.Entity, head.DeletedAt, byEntity.GetValueOrDefault(head.Entity.Id) ?? [], bodyContext));
    }

    /// <summary>
    /// Aggregated values computed by the store (SQL GROUP BY, a Mongo $group pipeline): only the figures per period
    /// leave the database, not the instances. Calendar periods (months, years) and windows that can hold deletions
    /// take the in-memory path instead.
    /// </summary>
    private static async Task WriteAggregatedInStoreAsync(NgsiRequest request, ITemporalStore store, IReadOnlyList<TemporalHead> heads,
        TemporalParameters parameters, IsoDuration period, bool single)
    {
        var (query, render, http) = (parameters.Query, parameters.Render, request.Http);
        var rows = await store.AggregateAsync(new TemporalAggregateRequest(heads.Select(h => h.Entity.Id).ToList(), render.Render.Fields.Only,
            query.TimeProperty, query.From, query.FromInclusive, query.To, period.Time), http.RequestAborted);
        var byEntity = Aggregation.FromStatistics(rows, render.Methods ?? [], period, query.From, query.To)
            .GroupBy(s => s.EntityId).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);

        await WriteEntitiesAsync(request, StatusCodes.Status200OK, render, heads, single, (renderer, writer, head, bodyContext) =>
            renderer.WriteAggregatedEntity(writer, head.Entity, head.DeletedAt, byEntity.GetValueOrDefault(head.Entity.Id) ?? [], bodyContext));
    }

    /// <summary>The response body: one temporal entity per head (an array unless <paramref name="single"/>), streamed.</summary>
    private static async Task WriteEntitiesAsync(NgsiRequest request, int status, TemporalRenderOptions render, IReadOnlyList<TemporalHead> heads, bool single,
        Action<TemporalRenderer, Utf8JsonWriter, TemporalHead, JsonNode?> writeEntity)
    {
        var bodyContext = await NgsiResponse.PrepareAsync(request, status);
        var renderer = new TemporalRenderer(request.Context, render);
        await using var writer = new Utf8JsonWriter(request.Http.Response.BodyWriter);
        if (!single) writer.WriteStartArray();
        foreach (var head in heads) writeEntity(renderer, writer, head, bodyContext);
        if (!single) writer.WriteEndArray();
        await writer.FlushAsync(request.Http.RequestAborted);
    }

    private static void WritePagingHeaders(HttpContext http, TemporalQuery query, TemporalCut cut)
    {
        var size = query.LastN?.ToString(CultureInfo.InvariantCulture) ?? "*";
        string F(DateTimeOffset t) => Ngsi.Model.Validate.Format(t);
        Dictionary<string, string?> next;
        if (!cut.Backward)
        {
            var start = query.From ?? cut.First ?? cut.Cutoff;
            var end = cut.Last ?? cut.Cutoff;
            http.Response.Headers["Content-Range"] = $"date-time {F(start)}-{F(end)}/{size}";
            next = query.TimeRel == TimeRelation.Between
                ? new() { ["timerel"] = "between", ["timeAt"] = F(cut.Cutoff), ["endTimeAt"] = F(query.EndTimeAt!.Value) }
                : new() { ["timerel"] = "after", ["timeAt"] = F(end), ["endTimeAt"] = null };
        }
        else
        {
            var start = query.To ?? cut.Last ?? cut.Cutoff;
            var end = cut.First ?? cut.Cutoff;
            http.Response.Headers["Content-Range"] = $"date-time {F(start)}-{F(end)}/{size}";
            next = query.TimeRel switch
            {
                TimeRelation.Between => new() { ["timerel"] = "between", ["timeAt"] = F(query.TimeAt!.Value), ["endTimeAt"] = F(end) },
                TimeRelation.After => new() { ["timerel"] = "between", ["timeAt"] = F(query.TimeAt!.Value.AddMilliseconds(1)), ["endTimeAt"] = F(end) },
                _ => new() { ["timerel"] = "before", ["timeAt"] = F(end), ["endTimeAt"] = null },
            };
        }
        if (http.Request.Method != HttpMethods.Get) return;
        var parameters = http.Request.Query.Where(p => !next.ContainsKey(p.Key))
            .SelectMany(p => p.Value.Select(v => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(v ?? "")))
            .Concat(next.Where(p => p.Value is not null).Select(p => p.Key + "=" + Uri.EscapeDataString(p.Value!)));
        http.Response.Headers.Append("Link", $"<{http.Request.Path}?{string.Join("&", parameters)}>; rel=\"next\"");
    }
}
