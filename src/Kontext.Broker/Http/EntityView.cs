using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Formats;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Http;

/// <summary>A join asked for with join and joinLevel (clause 4.5.23, 6.3.x).</summary>
internal sealed record JoinRequest(JoinMode Mode, int Level)
{
    /// <summary>Linked entities one response may carry; beyond, the request is refused (TooManyResults).</summary>
    public const int MaxLinkedEntities = 1000;

    /// <summary>join and joinLevel from their text (URL) form; null when no join is asked for (absent or "@none").</summary>
    public static JoinRequest? Parse(string? join, string? joinLevel)
    {
        var level = 1;
        if (!string.IsNullOrEmpty(joinLevel))
        {
            if (!int.TryParse(joinLevel, NumberStyles.None, CultureInfo.InvariantCulture, out level) || level < 1)
                throw NgsiException.BadRequestData($"joinLevel must be a positive integer, not '{joinLevel}'");
        }
        return Create(join, level);
    }

    private static JoinRequest? Create(string? join, int level)
    {
        var mode = join switch
        {
            null or "" or "@none" => (JoinMode?)null,
            "inline" => JoinMode.Inline,
            "flat" => JoinMode.Flat,
            _ => throw NgsiException.BadRequestData($"join must be inline, flat or @none, not '{join}'"),
        };
        if (mode is null) return null;
        if (level > LinkedEntities.MaxLevel)
            throw new NgsiException(NgsiError.TooComplexQuery($"joinLevel {level} is above the deepest join this broker follows ({LinkedEntities.MaxLevel})"));
        return new JoinRequest(mode.Value, level);
    }

    /// <summary>join and joinLevel from a Query body (clause 5.2.23).</summary>
    public static JoinRequest? FromBody(JsonObject body)
    {
        var join = body["join"] switch
        {
            null => null,
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            _ => throw NgsiException.BadRequestData("'join' must be a string"),
        };
        var level = body["joinLevel"] switch
        {
            null => 1,
            JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<int>(out var n) && n >= 1 => n,
            var other => throw NgsiException.BadRequestData($"'joinLevel' must be a positive integer, not {other.ToJsonString()}"),
        };
        return Create(join, level);
    }

    /// <summary>
    /// A projection or a q that reaches into linked entities needs a join deep enough (clause 5.7.1.4, 5.7.2.4):
    /// without one, or deeper than joinLevel, the request is BadRequestData.
    /// </summary>
    public static void CheckDepth(JoinRequest? join, int depth, string what)
    {
        if (depth == 0) return;
        if (join is null)
            throw NgsiException.BadRequestData($"{what} addresses linked entities (\"{{...}}\"), which needs join=inline or join=flat");
        if (depth > join.Level)
            throw NgsiException.BadRequestData($"{what} reaches {depth} linked entity hops, deeper than joinLevel={join.Level}");
    }
}

/// <summary>
/// What a Retrieve Entity or Query Entities response shows (clauses 4.5, 4.5.23, 4.21, 4.23): the representation and
/// projection, the datasetId filter, the join, the GeoJSON geometry property and the order of the entities.
/// </summary>
internal sealed record EntityView(RenderOptions Render, JoinRequest? Join, string GeometryProperty, EntityOrdering? Order = null)
{
    /// <summary>Every parameter from the URL (GET).</summary>
    public static EntityView FromUrl(NgsiRequest request, List<string> attrs) =>
        Create(request, attrs, QueryParameters.Selection(request, "pick"), QueryParameters.Selection(request, "omit"),
            JoinRequest.Parse(request.Query["join"].ToString(), request.Query["joinLevel"].ToString()),
            QueryParameters.List(request, "datasetId"), Text(request, "geometryProperty"), Text(request, "lang"))
        with { Order = UrlOrdering(request) };

    /// <summary>
    /// A Query body (clause 5.2.23) for pick, omit, join, joinLevel, datasetId, lang, geometryProperty and ordering
    /// (OrderingParams, clause 5.2.43); the representation options stay in the URL.
    /// </summary>
    public static EntityView FromBody(NgsiRequest request, List<string> attrs)
    {
        var body = request.Body!;
        var view = Create(request, attrs, BodySelection(body, "pick"), BodySelection(body, "omit"), JoinRequest.FromBody(body),
            BodyStrings(body, "datasetId") ?? QueryParameters.List(request, "datasetId"),
            BodyText(body, "geometryProperty") ?? Text(request, "geometryProperty"),
            BodyText(body, "lang") ?? Text(request, "lang"));
        return view with { Order = BodyOrdering(request, body["ordering"]) };
    }

    /// <summary>orderBy, orderFrom and collation from the URL (clause 4.23); null when orderBy is absent.</summary>
    public static EntityOrdering? UrlOrdering(NgsiRequest request)
    {
        var orderBy = QueryParameters.List(request, "orderBy");
        if (orderBy.Count == 0)
        {
            if (Text(request, "collation") is { } collation) EntityOrdering.ParseCollation(collation);
            return null;
        }
        return EntityOrdering.Parse(orderBy, Text(request, "orderFrom"), null, Text(request, "collation"), request.Context);
    }

    private static EntityOrdering? BodyOrdering(NgsiRequest request, JsonNode? ordering)
    {
        if (ordering is null) return null;
        if (ordering is not JsonObject o) throw NgsiException.BadRequestData("'ordering' must be an object");
        var orderBy = o["orderBy"] switch
        {
            null => null,
            JsonValue v when v.TryGetValue<string>(out var s) => [s],
            JsonArray a when a.Count > 0 && a.All(x => x is JsonValue xv && xv.GetValueKind() == JsonValueKind.String) => a.Select(x => x!.GetValue<string>()).ToList(),
            _ => throw NgsiException.BadRequestData("ordering: 'orderBy' must be a non-empty array of strings"),
        };
        var coordinates = o["coordinates"] switch
        {
            null => null,
            JsonArray a => a.ToJsonString(),
            _ => throw NgsiException.BadRequestData("ordering: 'coordinates' must be a JSON array"),
        };
        var geometry = BodyText(o, "geometry");
        var collation = BodyText(o, "collation");
        if (orderBy is null)
        {
            EntityOrdering.ParseCollation(collation);
            return null;
        }
        return EntityOrdering.Parse(orderBy, coordinates, geometry, collation, request.Context);
    }

    private static EntityView Create(NgsiRequest request, List<string> attrs, IReadOnlyList<SelectedMember>? pick, IReadOnlyList<SelectedMember>? omit,
        JoinRequest? join, List<string> datasetIds, string? geometryProperty, string? lang)
    {
        var projection = QueryParameters.Projection(request, attrs, pick, omit);
        JoinRequest.CheckDepth(join, projection.Depth, pick is not null ? "pick" : "omit");
        if (datasetIds.Count > 0)
        {
            foreach (var id in datasetIds.Where(d => d != Projection.DefaultInstance)) Validate.EntityId(id, "datasetId");
            projection = projection with { DatasetIds = datasetIds.ToHashSet(StringComparer.Ordinal) };
        }
        // The projection and lang were read above (a Query body's route takes no attrs, pick or omit in its URL): only the
        // representation is left to read.
        var (format, sysAttrs) = QueryParameters.Representation(request);
        var render = new RenderOptions(format, sysAttrs, LanguageSelector.Parse(lang), projection);
        return new EntityView(render, join, QueryParameters.GeometryProperty(request, geometryProperty));
    }

    /// <summary>
    /// The render options for these entities: with a join, the linked entities they reach, read from the store one
    /// batch per hop (clause 4.5.23).
    /// </summary>
    public async Task<RenderOptions> WithLinkedEntitiesAsync(ITenantStore store, IReadOnlyList<Entity> entities, CancellationToken cancellationToken)
    {
        if (Join is null) return Render;
        var roots = entities.Select(e => (e, Render.Fields)).ToList();
        var linked = await LinkedEntities.FetchAsync(Join.Mode, Join.Level, roots, async (ids, ct) =>
        {
            var page = await store.QueryAsync(new EntityPageRequest(new EntityQuery(Ids: new(ids)), 0, ids.Count, false), ct);
            return page.Entities;
        }, JoinRequest.MaxLinkedEntities, cancellationToken);
        return Render with { Joined = linked };
    }

    /// <summary>
    /// True when the answer can be written straight from the stored documents (<see cref="StoredEntity"/>): JSON or
    /// JSON-LD (not GeoJSON), no join, no language choice or datasetId filter, and no older version preferred (that
    /// reformats newer attribute types, <see cref="VersionFallback"/>).
    /// </summary>
    public bool RendersStored(NgsiRequest request) =>
        request.Media != ResponseMedia.GeoJson && Join is null && EntityRenderer.CoversStored(Render) && !request.Prefer.PrefersBefore(1, 8);

    private static string? Text(NgsiRequest request, string name) => request.Query[name].ToString() is { Length: > 0 } s ? s : null;

    private static string? BodyText(JsonObject body, string member) => body[member] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => throw NgsiException.BadRequestData($"'{member}' must be a string"),
    };

    private static List<string>? BodyStrings(JsonObject body, string member) => body[member] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => [s],
        JsonArray a when a.Count > 0 && a.All(x => x is JsonValue xv && xv.GetValueKind() == JsonValueKind.String) => a.Select(x => x!.GetValue<string>()).ToList(),
        _ => throw NgsiException.BadRequestData($"'{member}' must be a string or a non-empty array of strings"),
    };

    /// <summary>pick or omit in a Query body: an array of member names (each may carry a "{...}" part), or one string in the URL grammar.</summary>
    private static IReadOnlyList<SelectedMember>? BodySelection(JsonObject body, string member) => body[member] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => MemberSelection.Parse(s, member),
        JsonArray a when a.Count > 0 && a.All(x => x is JsonValue xv && xv.GetValueKind() == JsonValueKind.String) =>
            MemberSelection.Parse(a.Select(x => x!.GetValue<string>()), member),
        _ => throw NgsiException.BadRequestData($"'{member}' must be a non-empty array of member names"),
    };
}
