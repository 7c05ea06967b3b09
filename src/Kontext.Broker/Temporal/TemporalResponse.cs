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

/// <summary>
/// One temporal entity to answer with: its id/type/scope and, when deleted through the entity API, deletedAt.
/// <paramref name="Spans"/>, when a scopeQ selected the entity, are the times its instances may come from (clause 5.7.4.4).
/// </summary>
internal sealed record TemporalHead(Entity Entity, DateTimeOffset? DeletedAt, IReadOnlyList<TemporalSpan>? Spans = null);

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
        var plan = TemporalPlan.For(query, render, TemporalRoutes.InstanceLimit(http));
        // A series merged with context sources' instances is aggregated in memory: the store holds only its local part.
        var federated = store is ContextSources.FederatedHistory;
        if (federated && plan.AggregatesInStore) plan = plan with { StorePeriod = null, PageSize = int.MaxValue - 1 };
        if (!federated && plan.Buckets is { } granularity && heads.All(h => h.Spans is null)
            && await WriteAggregatedFromBucketsAsync(request, store, heads, parameters, granularity, single))
            return;
        if (plan.StorePeriod is { } period)
        {
            await WriteAggregatedInStoreAsync(request, store, heads, parameters, period, single);
            return;
        }
        var (backward, pageSize, paging) = (plan.Backward, plan.PageSize, plan.Paging);

        var read = await store.ReadInstancesAsync(new TemporalReadRequest(
            heads.Select(h => h.Entity.Id).ToList(), render.Render.Fields.Only, query.TimeProperty,
            query.From, query.FromInclusive, query.To, plan.ReadLimit, backward, parameters.DatasetIds), http.RequestAborted);
        read = WithinSpans(read, heads);
        if (single) RequireMembers(heads[0], read.Select(i => i.Record.Attribute), render.Render.Fields);

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
        // On a cut page, the first instance of each attribute that has none on the page (it names the attribute and its type).
        var cutOff = cut is null ? null
            : groups.Where((g, i) => g.Count > 0 && pages[i].Count == 0) // pages are the groups, cut, in the same order
                .Select(g => g[0]).GroupBy(i => i.Record.EntityId).ToDictionary(g => g.Key, g => (IReadOnlyList<TemporalInstance>)g.ToList(), StringComparer.Ordinal);
        await WriteEntitiesAsync(request, status, render, heads, single, (renderer, writer, head, bodyContext) =>
            renderer.WriteEntity(writer, head.Entity, head.DeletedAt, byEntity.GetValueOrDefault(head.Entity.Id) ?? [], bodyContext,
                cutOff?.GetValueOrDefault(head.Entity.Id)));
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
            query.TimeProperty, query.From, query.FromInclusive, query.To, period.Time, parameters.DatasetIds), http.RequestAborted);
        if (single) RequireMembers(heads[0], rows.Select(r => r.Attribute), render.Render.Fields);
        var byEntity = Aggregation.FromStatistics(rows, render.Methods ?? [], period, query.From, query.To)
            .GroupBy(s => s.EntityId).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);

        await WriteEntitiesAsync(request, StatusCodes.Status200OK, render, heads, single, (renderer, writer, head, bodyContext) =>
            renderer.WriteAggregatedEntity(writer, head.Entity, head.DeletedAt, byEntity.GetValueOrDefault(head.Entity.Id) ?? [], bodyContext));
    }

    /// <summary>
    /// Aggregated values composed from the store's pre-aggregated buckets (<see cref="Buckets"/>): the whole buckets of
    /// the window and, when the window ends inside a bucket, the figures of that bucket's samples before the end.
    /// False, having written nothing, when the store keeps no buckets.
    /// </summary>
    private static async Task<bool> WriteAggregatedFromBucketsAsync(NgsiRequest request, ITemporalStore store, IReadOnlyList<TemporalHead> heads,
        TemporalParameters parameters, BucketGranularity granularity, bool single)
    {
        var (query, render, http) = (parameters.Query, parameters.Render, request.Http);
        var (ids, from, to, period) = (heads.Select(h => h.Entity.Id).ToList(), query.From!.Value, query.To, render.Period ?? IsoDuration.Zero);
        var (cut, hasEdge) = Buckets.Split(from, to, granularity);
        var buckets = await store.ReadBucketsAsync(new TemporalBucketRequest(ids, render.Render.Fields.Only, granularity, from, cut, parameters.DatasetIds), http.RequestAborted);
        if (buckets is null) return false;
        IReadOnlyList<PeriodStatistics> edge = hasEdge
            ? await store.AggregateAsync(new TemporalAggregateRequest(ids, render.Render.Fields.Only, TemporalTimeProperty.ObservedAt,
                cut, true, to, TimeSpan.Zero, parameters.DatasetIds), http.RequestAborted)
            : [];
        var rows = Buckets.Compose(buckets, edge, period, from);
        if (single) RequireMembers(heads[0], rows.Select(r => r.Attribute), render.Render.Fields);
        var byEntity = Aggregation.FromStatistics(rows, render.Methods ?? [], period, from, to)
            .GroupBy(s => s.EntityId).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);

        await WriteEntitiesAsync(request, StatusCodes.Status200OK, render, heads, single, (renderer, writer, head, bodyContext) =>
            renderer.WriteAggregatedEntity(writer, head.Entity, head.DeletedAt, byEntity.GetValueOrDefault(head.Entity.Id) ?? [], bodyContext));
        return true;
    }

    /// <summary>Instances of entities a scopeQ selected only while a matching Scope was valid.</summary>
    private static IReadOnlyList<TemporalInstance> WithinSpans(IReadOnlyList<TemporalInstance> read, IReadOnlyList<TemporalHead> heads)
    {
        var spans = heads.Where(h => h.Spans is not null).ToDictionary(h => h.Entity.Id, h => h.Spans!, StringComparer.Ordinal);
        if (spans.Count == 0) return read;
        return read.Where(i => !spans.TryGetValue(i.Record.EntityId, out var allowed) || allowed.Any(s => s.Contains(i.Time))).ToList();
    }

    /// <summary>
    /// Retrieving one temporal entity finds nothing (clauses 5.7.3.4, 4.21) when the attributes asked for do not exist
    /// on it, or when pick and omit leave no member to show.
    /// </summary>
    private static void RequireMembers(TemporalHead head, IEnumerable<string> readAttributes, Projection fields)
    {
        var shown = readAttributes.Where(fields.IncludesAttribute).Any();
        if (shown) return;
        if (fields.Only is { } only && !head.Entity.Attributes.Keys.Any(only.Contains))
            throw NgsiException.NotFound($"The entity '{head.Entity.Id}' has none of the attributes asked for");
        if (!fields.Id && !fields.Type && !(fields.Scope && head.Entity.Scopes is { Count: > 0 }))
            throw NgsiException.NotFound($"pick and omit leave nothing of the entity '{head.Entity.Id}' to show");
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
        string F(DateTimeOffset t) => TemporalTime.Format(t);
        Dictionary<string, string?> next;
        if (!cut.Backward)
        {
            var start = query.From ?? cut.First ?? cut.Cutoff;
            var end = cut.Last ?? cut.Cutoff;
            http.Response.Headers["Content-Range"] = $"date-time {F(start)}-{F(end)}/{size}";
            next = query.TimeRel == TimeRelation.Between
                ? new() { ["timerel"] = "between", ["timeAt"] = F(cut.Cutoff), ["endTimeAt"] = F(query.EndTimeAt!.Value) }
                : new() { ["timerel"] = "after", ["timeAt"] = F(cut.Cutoff), ["endTimeAt"] = null };
        }
        else
        {
            var start = query.To ?? cut.Last ?? cut.Cutoff;
            var end = cut.First ?? cut.Cutoff;
            http.Response.Headers["Content-Range"] = $"date-time {F(start)}-{F(end)}/{size}";
            next = query.TimeRel switch
            {
                TimeRelation.Between => new() { ["timerel"] = "between", ["timeAt"] = F(query.TimeAt!.Value), ["endTimeAt"] = F(end) },
                TimeRelation.After => new() { ["timerel"] = "between", ["timeAt"] = F(query.TimeAt!.Value), ["endTimeAt"] = F(end) },
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
