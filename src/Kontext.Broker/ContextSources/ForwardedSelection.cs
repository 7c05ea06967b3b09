using System.Text;
using System.Text.Json.Nodes;
using Kontext.Broker.Http;
using Kontext.Ngsi.ContextSources;

namespace Kontext.Broker.ContextSources;

/// <summary>
/// What a forwarded consumption request selects, in the caller's terms, read once from the URL (GET) or from a Query body
/// (POST /entityOperations/query): the selection parameters and attrs. It renders as URL parameters for a source offering
/// queryEntity, or as a Query body for one offering only queryBatch (clause 4.3.6.2); an entity retrieved from a source
/// that offers no retrieveEntity is asked for by id. A registration naming only entity ids narrows the query to them.
/// </summary>
internal sealed class ForwardedSelection
{
    /// <summary>The parameters of Query Entities that select entities, forwarded as they came (in the caller's terms).</summary>
    private static readonly string[] UrlParameters = ["id", "type", "idPattern", "q", "georel", "geometry", "coordinates", "geoproperty", "scopeQ", "datasetId"];

    private readonly List<(string Name, string Value)> pairs = [];

    public IReadOnlyList<string> Attrs { get; private init; } = [];

    /// <summary>The query's own selection; with <paramref name="withoutFilters"/> (splitEntities) q, scopeQ and the geo-query are left out.</summary>
    public static ForwardedSelection Of(NgsiRequest request, bool withoutFilters)
    {
        var selection = request.Body is { } body && HttpMethods.IsPost(request.Http.Request.Method) ? FromBody(body) : FromUrl(request);
        if (withoutFilters) selection.pairs.RemoveAll(p => p.Name is "q" or "scopeQ" or "georel" or "geometry" or "coordinates" or "geoproperty");
        return selection;
    }

    /// <summary>Retrieve Entity asked as a query: the id, the type asked (else none) and attrs.</summary>
    public static ForwardedSelection ById(string id, string type, IReadOnlyList<string> attrs)
    {
        var selection = new ForwardedSelection { Attrs = attrs };
        selection.pairs.Add(("id", id));
        if (type.Length > 0) selection.pairs.Add(("type", type));
        return selection;
    }

    private static ForwardedSelection FromUrl(NgsiRequest request)
    {
        var selection = new ForwardedSelection { Attrs = QueryParameters.List(request, "attrs") };
        foreach (var name in UrlParameters)
            if (request.Query[name].ToString() is { Length: > 0 } value) selection.pairs.Add((name, value));
        return selection;
    }

    private static ForwardedSelection FromBody(JsonObject body)
    {
        var attrs = body["attrs"] is JsonArray list ? list.Select(a => a?.ToString()).OfType<string>().ToList() : [];
        var selection = new ForwardedSelection { Attrs = attrs };
        if (body["entities"] is JsonArray entities)
        {
            var selectors = entities.OfType<JsonObject>().ToList();
            void Join(string member)
            {
                var values = selectors.Select(s => s[member]?.ToString()).OfType<string>().Distinct().ToList();
                if (values.Count > 0) selection.pairs.Add((member, string.Join(',', values)));
            }
            Join("type");
            Join("id");
            if (selectors.Count == 1) Join("idPattern");
        }
        foreach (var name in new[] { "q", "scopeQ" })
            if (body[name] is JsonValue v && v.TryGetValue<string>(out var text)) selection.pairs.Add((name, text));
        if (body["geoQ"] is JsonObject geo)
            foreach (var (name, value) in geo)
                if (value is not null) selection.pairs.Add((name, value is JsonValue s && s.TryGetValue<string>(out var text) ? text : value.ToJsonString()));
        return selection;
    }

    /// <summary>
    /// The selection for one source: narrowed to the entity ids its registration names, when it names only ids; a query for
    /// ids keeps only those the registration can hold (clause 4.3.6.1: its constraints are respected).
    /// </summary>
    public ForwardedSelection For(Registration registration)
    {
        var infos = registration.Information.SelectMany(i => (IEnumerable<EntityInfo?>?)i.Entities ?? [null]).ToList();
        if (Get("id") is { } asked) return NarrowedIds(asked, infos);
        if (pairs.Any(p => p.Name is "idPattern")) return this;
        if (infos.Count == 0 || infos.Any(e => e?.Id is null)) return this;
        var narrowed = new ForwardedSelection { Attrs = Attrs };
        narrowed.pairs.AddRange(pairs);
        narrowed.pairs.Add(("id", string.Join(',', infos.Select(e => e!.Id).Distinct())));
        return narrowed;
    }

    /// <summary>The same selection for these entity ids only (its other parameters kept).</summary>
    public ForwardedSelection WithIds(IReadOnlyList<string> ids)
    {
        var narrowed = new ForwardedSelection { Attrs = Attrs };
        narrowed.pairs.AddRange(pairs.Where(p => p.Name != "id"));
        narrowed.pairs.Add(("id", string.Join(',', ids)));
        return narrowed;
    }

    /// <summary>False when the registration names only entity ids and patterns, and none of them is <paramref name="id"/>.</summary>
    public static bool MayHold(Registration registration, string id)
    {
        var infos = registration.Information.SelectMany(i => (IEnumerable<EntityInfo?>?)i.Entities ?? [null]).ToList();
        return infos.Count == 0 || infos.Any(e => e is null || (e.Id is null && e.IdPattern is null) || Names(e, id));
    }

    private static bool Names(EntityInfo info, string id) =>
        info.Id == id || (info.IdPattern is { } pattern && Kontext.Ngsi.Query.SafeRegex.IsMatch(pattern, id));

    private ForwardedSelection NarrowedIds(string asked, List<EntityInfo?> infos)
    {
        if (infos.Count == 0 || infos.Any(e => e is null || (e.Id is null && e.IdPattern is null))) return this;
        var ids = asked.Split(',');
        var held = ids.Where(id => infos.Any(e => Names(e!, id))).ToList();
        if (held.Count == ids.Length || held.Count == 0) return this;
        var narrowed = new ForwardedSelection { Attrs = Attrs };
        narrowed.pairs.AddRange(pairs.Select(p => p.Name == "id" ? ("id", string.Join(',', held)) : p));
        return narrowed;
    }

    public string? Get(string name) => pairs.FirstOrDefault(p => p.Name == name).Value;

    /// <summary>The URL parameters (escaped), each preceded by '&amp;'.</summary>
    public void AppendTo(StringBuilder query)
    {
        foreach (var (name, value) in pairs) query.Append('&').Append(name).Append('=').Append(Uri.EscapeDataString(value));
    }

    /// <summary>A Query body (clause 5.2.23) for POST /entityOperations/query; a selector needs a type: the registration's when none is asked.</summary>
    public string QueryBody(Registration registration, IReadOnlyList<string> attrs, Func<string, string> compact)
    {
        var types = Get("type") is { } asked ? asked.Split(',') : registration.Information.SelectMany(i => i.Entities ?? []).SelectMany(e => e.Types).Select(compact).Distinct().ToArray();
        var ids = Get("id")?.Split(',');
        var entities = new JsonArray();
        foreach (var type in types.DefaultIfEmpty("*"))
        {
            if (ids is null)
            {
                var selector = new JsonObject { ["type"] = type };
                if (Get("idPattern") is { } pattern) selector["idPattern"] = pattern;
                entities.Add(selector);
            }
            else foreach (var id in ids) entities.Add(new JsonObject { ["id"] = id, ["type"] = type });
        }
        var body = new JsonObject { ["type"] = "Query", ["entities"] = entities };
        if (attrs.Count > 0) body["attrs"] = new JsonArray(attrs.Select(a => (JsonNode?)JsonValue.Create(a)).ToArray());
        if (Get("q") is { } q) body["q"] = q;
        if (Get("scopeQ") is { } scope) body["scopeQ"] = scope;
        if (Get("georel") is { } georel)
        {
            var geoQ = new JsonObject { ["georel"] = georel };
            if (Get("geometry") is { } geometry) geoQ["geometry"] = geometry;
            if (Get("coordinates") is { } coordinates) geoQ["coordinates"] = JsonNode.Parse(coordinates);
            if (Get("geoproperty") is { } geoproperty) geoQ["geoproperty"] = geoproperty;
            body["geoQ"] = geoQ;
        }
        return body.ToJsonString();
    }
}
