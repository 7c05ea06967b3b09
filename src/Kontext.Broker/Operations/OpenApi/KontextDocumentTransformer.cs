using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Kontext.Broker.Operations.OpenApi;

/// <summary>
/// Completes the generated document from <see cref="ApiCatalog"/>. The NGSI-LD handlers read the request themselves
/// (tenant, @context, strict JSON, size caps), so the generator sees no typed parameters for most of them, and handlers
/// taking only an HttpContext are not described at all; this transformer adds every mapped route and gives each the
/// spec's operation name and clause, its parameters, headers, body and answers, ProblemDetails for every error, and the
/// security schemes of Kontext:Auth.
/// </summary>
internal sealed partial class KontextDocumentTransformer : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info = new OpenApiInfo
        {
            Title = "Kontext NGSI-LD context broker",
            Version = BuildInfo.Version,
            Description = $"ETSI GS CIM 009 NGSI-LD API (target v{BuildInfo.SpecTarget}, floor v{BuildInfo.SpecFloor}) with the temporal API, " +
                          "subscriptions, @context management, vendor adapters and the operations endpoints. Errors are NGSI-LD ProblemDetails; " +
                          "every answer carries X-Request-Id.",
        };
        ApiSchemas.AddComponents(document);
        document.Paths ??= new OpenApiPaths();
        var endpoints = context.ApplicationServices.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>();
        foreach (var endpoint in endpoints)
        {
            var pattern = Security.RouteRights.Normalize(endpoint.RoutePattern.RawText ?? "");
            foreach (var method in endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [])
            {
                if (!ApiCatalog.Operations.TryGetValue((method, pattern), out var described)) continue;
                var path = OpenApiPath(pattern);
                if (!document.Paths.TryGetValue(path, out var item) || item is not OpenApiPathItem pathItem)
                    document.Paths[path] = pathItem = new OpenApiPathItem();
                pathItem.Operations ??= new Dictionary<HttpMethod, OpenApiOperation>();
                var operation = new OpenApiOperation();
                pathItem.Operations[HttpMethod.Parse(method)] = operation;
                Describe(document, operation, method, pattern, described);
            }
        }
        return Task.CompletedTask;
    }

    /// <summary>"/docs/{documentName?}" → "/docs/{documentName}"; constraints and defaults are not part of an OpenAPI path.</summary>
    internal static string OpenApiPath(string pattern) => RouteParameter().Replace(pattern, m => "{" + m.Groups[1].Value + "}");

    [GeneratedRegex(@"\{\*{0,2}([A-Za-z0-9_]+)[^}]*\}")]
    private static partial Regex RouteParameter();

    private static void Describe(OpenApiDocument document, OpenApiOperation operation, string method, string pattern, ApiOperation described)
    {
        operation.OperationId = OperationId(method, pattern);
        operation.Summary = described.Summary;
        operation.Description = string.Join("\n\n", new[]
        {
            described.Clause is null ? null : $"ETSI GS CIM 009 clause {described.Clause}.",
            described.Description,
        }.Where(s => s is not null));
        operation.Tags = new HashSet<OpenApiTagReference> { new(described.Tag, document) };
        operation.Parameters = [];
        foreach (var name in RouteParameter().Matches(pattern).Select(m => m.Groups[1].Value))
            operation.Parameters.Add(ApiParameters.Path(name));
        foreach (var name in described.Query) operation.Parameters.Add(ApiParameters.Query(name));
        if (described.Ngsi)
        {
            operation.Parameters.Add(ApiParameters.Tenant);
            if (method is "GET" || described.Body is not Body.None) operation.Parameters.Add(ApiParameters.Link);
            if (method is "GET") operation.Parameters.Add(ApiParameters.Accept);
        }
        else if (described.Tag == "Adapter admin") operation.Parameters.Add(ApiParameters.Tenant);
        operation.Parameters.Add(ApiParameters.RequestId);
        if (described.Body is not Body.None) operation.RequestBody = ApiSchemas.RequestBody(document, described.Body);
        operation.Responses = new OpenApiResponses();
        foreach (var (status, answer) in described.Success)
            operation.Responses[status.ToString(System.Globalization.CultureInfo.InvariantCulture)] = ApiSchemas.Response(document, status, answer);
        operation.Responses["4XX"] = ApiSchemas.Problem(document, "The request was refused; the body says why (NGSI-LD ProblemDetails)");
        operation.Responses["5XX"] = ApiSchemas.Problem(document, "The broker or a resource it needed failed (e.g. 504 LdContextNotAvailable)");
        operation.Security = described.Public ? [] : ApiSchemas.Credentials(document);
    }

    private static string OperationId(string method, string pattern)
    {
        var words = pattern.Replace("/ngsi-ld/v1", "", StringComparison.Ordinal)
            .Split(['/', '.', '{', '}', '?', '-'], StringSplitOptions.RemoveEmptyEntries)
            .Select(w => char.ToUpperInvariant(w[0]) + w[1..]);
        return method.ToLowerInvariant() + string.Concat(words);
    }
}

/// <summary>The parameters the NGSI-LD API shares between operations, described once.</summary>
internal static class ApiParameters
{
    private static readonly Dictionary<string, (string Description, JsonSchemaType Type)> QueryParameters = new(StringComparer.Ordinal)
    {
        ["type"] = ("Entity type selection: a type name or expression (A,B = or; A;B = and; parentheses), expanded with the request's @context", JsonSchemaType.String),
        ["id"] = ("Comma-separated entity ids", JsonSchemaType.String),
        ["idPattern"] = ("Regular expression over entity ids", JsonSchemaType.String),
        ["q"] = ("NGSI-LD query language filter (clause 4.9), e.g. temperature>20;status==\"open\"", JsonSchemaType.String),
        ["scopeQ"] = ("Scope query (clause 4.19)", JsonSchemaType.String),
        ["georel"] = ("Geo relationship: near;maxDistance==500, within, contains, intersects, equals, disjoint, overlaps", JsonSchemaType.String),
        ["geometry"] = ("Geometry type of the geo-query: Point, LineString, Polygon, Multi*", JsonSchemaType.String),
        ["coordinates"] = ("Coordinates of the geo-query geometry (GeoJSON coordinates array)", JsonSchemaType.String),
        ["geoproperty"] = ("GeoProperty the geo-query applies to (default location)", JsonSchemaType.String),
        ["attrs"] = ("Comma-separated attribute names: entities with at least one of them, showing only these", JsonSchemaType.String),
        ["pick"] = ("Comma-separated members to keep in the answer (v1.8 projection)", JsonSchemaType.String),
        ["omit"] = ("Comma-separated members to leave out of the answer", JsonSchemaType.String),
        ["options"] = ("keyValues, concise, sysAttrs, noOverwrite, replace, update, temporalValues, aggregatedValues (as the operation allows)", JsonSchemaType.String),
        ["format"] = ("Representation: normalized, concise, simplified / keyValues", JsonSchemaType.String),
        ["lang"] = ("Language to pick from LanguageProperty maps", JsonSchemaType.String),
        ["geometryProperty"] = ("GeoProperty used as geometry in application/geo+json answers", JsonSchemaType.String),
        ["entityMapLifetime"] = ("ISO 8601 duration the Entity map should live (bounded by Kontext:EntityMaps:MaxLifetime)", JsonSchemaType.String),
        ["limit"] = ("Page size (Kontext:Limits:DefaultPageSize, at most MaxPageSize, else 403 TooManyResults)", JsonSchemaType.Integer),
        ["offset"] = ("Items to skip", JsonSchemaType.Integer),
        ["count"] = ("true: the total is returned in NGSILD-Results-Count", JsonSchemaType.Boolean),
        ["local"] = ("true: only this broker's entities (and allows a query without any other filter)", JsonSchemaType.Boolean),
        ["details"] = ("true: full descriptions instead of names", JsonSchemaType.Boolean),
        ["kind"] = ("Hosted or Cached @contexts only", JsonSchemaType.String),
        ["reload"] = ("true: fetch a cached @context again instead of deleting it", JsonSchemaType.Boolean),
        ["datasetId"] = ("The instance of a multi-attribute", JsonSchemaType.String),
        ["deleteAll"] = ("true: every instance of the attribute", JsonSchemaType.Boolean),
        ["timerel"] = ("before, after or between", JsonSchemaType.String),
        ["timeAt"] = ("UTC date-time (RFC 3339) the window starts or ends at", JsonSchemaType.String),
        ["endTimeAt"] = ("UTC date-time ending a between window", JsonSchemaType.String),
        ["timeproperty"] = ("observedAt (default), createdAt or modifiedAt", JsonSchemaType.String),
        ["lastN"] = ("Only the last N instances of each attribute", JsonSchemaType.Integer),
        ["aggrMethods"] = ("With options=aggregatedValues: totalCount, distinctCount, sum, avg, min, max, stddev, sumsq", JsonSchemaType.String),
        ["aggrPeriodDuration"] = ("With options=aggregatedValues: ISO 8601 duration of each period (PT1H)", JsonSchemaType.String),
        ["status"] = ("pending or replayed", JsonSchemaType.String),
        ["tenant"] = ("The local tenant the forwarded subscription belongs to (the source sends its own NGSILD-Tenant)", JsonSchemaType.String),
    };

    public static OpenApiParameter Path(string name) => new()
    {
        Name = name, In = ParameterLocation.Path, Required = true,
        Description = name switch
        {
            "entityId" => "Entity id (a URI)",
            "attrId" => "Attribute name (expanded with the request's @context)",
            "instanceId" => "Attribute instance id (a URI)",
            "subscriptionId" => "Subscription id (a URI)",
            "contextId" => "Id of a hosted @context, or the URL of a cached one (percent-encoded)",
            "source" => "Ingest source name (Kontext:Adapters:Sources)",
            _ => null,
        },
        Schema = new OpenApiSchema { Type = JsonSchemaType.String },
    };

    public static OpenApiParameter Query(string name)
    {
        if (!QueryParameters.TryGetValue(name, out var described)) throw new InvalidOperationException($"Query parameter '{name}' is not described");
        return new OpenApiParameter { Name = name, In = ParameterLocation.Query, Description = described.Description, Schema = new OpenApiSchema { Type = described.Type } };
    }

    public static OpenApiParameter Tenant => new()
    {
        Name = "NGSILD-Tenant", In = ParameterLocation.Header,
        Description = "Tenant (clause 6.3.14). Absent: the default tenant. A tenant is created by its first write; reading an unknown one is 404 NonexistentTenant.",
        Schema = new OpenApiSchema { Type = JsonSchemaType.String },
    };

    public static OpenApiParameter Link => new()
    {
        Name = "Link", In = ParameterLocation.Header,
        Description = "The JSON-LD @context for application/json bodies and for the names in the query: <url>; rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\"",
        Schema = new OpenApiSchema { Type = JsonSchemaType.String },
    };

    public static OpenApiParameter Accept => new()
    {
        Name = "Accept", In = ParameterLocation.Header,
        Description = "application/json (default: @context in a Link header), application/ld+json (@context in the body), application/geo+json where offered",
        Schema = new OpenApiSchema { Type = JsonSchemaType.String },
    };

    public static OpenApiParameter RequestId => new()
    {
        Name = RequestCorrelation.Header, In = ParameterLocation.Header,
        Description = "Optional correlation id (printable ASCII, at most 128 characters); echoed in the answer, or a new one is made",
        Schema = new OpenApiSchema { Type = JsonSchemaType.String },
    };
}
