using Microsoft.OpenApi;

namespace Kontext.Broker.Operations.OpenApi;

/// <summary>
/// The shared components of the document: NGSI-LD payload shapes (kept open: NGSI-LD entities are extensible by nature
/// and their attribute names come from the caller's @context), ProblemDetails, and the security schemes.
/// </summary>
internal static class ApiSchemas
{
    private static readonly string[] NgsiMedia = ["application/json", "application/ld+json"];

    private static readonly Dictionary<string, OpenApiSchema> Shapes = new(StringComparer.Ordinal)
    {
        ["ProblemDetails"] = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = "NGSI-LD error (clause 5.5.2, RFC 9457); requestId is the X-Request-Id of the answer",
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Format = "uri", Description = "e.g. https://uri.etsi.org/ngsi-ld/errors/BadRequestData" },
                ["title"] = new OpenApiSchema { Type = JsonSchemaType.String },
                ["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer },
                ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String },
                ["requestId"] = new OpenApiSchema { Type = JsonSchemaType.String },
            },
            Required = new HashSet<string> { "type", "title", "detail" },
        },
        ["Entity"] = Open("NGSI-LD entity (normalized or concise; clause 4.5): id, type, attributes by name, optional @context with application/ld+json",
            ("id", JsonSchemaType.String, "A URI"), ("type", JsonSchemaType.String | JsonSchemaType.Array, "Type name(s), expanded with the @context")),
        ["EntityFragment"] = Open("Attributes of an entity, by name (no id needed)"),
        ["Attribute"] = Open("One attribute: {type: Property|Relationship|GeoProperty|..., value|object|languageMap|vocab|json, observedAt, unitCode, datasetId, sub-attributes}"),
        ["Query"] = Open("Query (clause 5.2.23): type Query, entities, attrs, q, geoQ, scopeQ, temporalQ", ("type", JsonSchemaType.String, "Query")),
        ["TemporalEntity"] = Open("Entity temporal representation (clause 4.5.7): each attribute an array of instances"),
        ["Subscription"] = Open("Subscription (clause 5.2.12): entities, watchedAttributes, q, notification.endpoint.uri, ...; status and notification counters when read",
            ("type", JsonSchemaType.String, "Subscription")),
        ["Context"] = Open("A JSON-LD document with an @context member"),
        ["BatchOperationResult"] = Open("Clause 5.2.16: success (entity ids) and errors ({entityId, error: ProblemDetails})"),
        ["UpdateResult"] = Open("Clause 5.2.18: updated (attribute names) and notUpdated ({attributeName, reason})"),
        ["Json"] = Open("A JSON document"),
    };

    public static void AddComponents(OpenApiDocument document)
    {
        document.Components ??= new OpenApiComponents();
        document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        foreach (var (name, schema) in Shapes) document.Components.Schemas[name] = schema;
        document.Components.Schemas["Entities"] = new OpenApiSchema { Type = JsonSchemaType.Array, Items = Ref(document, "Entity") };
        document.Components.Schemas["EntityIds"] = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String, Format = "uri" } };
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes["apiKey"] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey, In = ParameterLocation.Header, Name = Security.AccessCheck.ApiKeyHeader,
            Description = "Kontext:Auth:Mode apikey (also accepted as Authorization: ApiKey <key>)",
        };
        document.Components.SecuritySchemes["bearer"] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http, Scheme = "bearer", BearerFormat = "JWT",
            Description = "Kontext:Auth:Mode oidc: a token of the configured identity provider",
        };
        document.Components.SecuritySchemes["adminKey"] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey, In = ParameterLocation.Header, Name = Security.AccessCheck.AdminKeyHeader,
            Description = "Adapter admin endpoints: Kontext:Adapters:AdminApiKey",
        };
        document.Tags = new HashSet<OpenApiTag>(
            new[] { "Entities", "Batch", "Types and attributes", "Temporal", "Subscriptions", "@context", "Adapters", "Adapter admin", "Operations" }
                .Select(name => new OpenApiTag { Name = name }));
    }

    /// <summary>API key, bearer token, or nothing (Kontext:Auth:Mode none).</summary>
    public static List<OpenApiSecurityRequirement> Credentials(OpenApiDocument document) =>
    [
        new() { [new OpenApiSecuritySchemeReference("apiKey", document)] = [] },
        new() { [new OpenApiSecuritySchemeReference("bearer", document)] = [] },
        new() { [new OpenApiSecuritySchemeReference("adminKey", document)] = [] },
        new(),
    ];

    public static OpenApiRequestBody RequestBody(OpenApiDocument document, Body body)
    {
        var (schema, media) = body switch
        {
            Body.Entity => ("Entity", NgsiMedia),
            Body.EntityFragment => ("EntityFragment", [.. NgsiMedia, "application/merge-patch+json"]),
            Body.Attribute => ("Attribute", NgsiMedia),
            Body.Entities => ("Entities", NgsiMedia),
            Body.EntityIds => ("EntityIds", ["application/json"]),
            Body.Query => ("Query", NgsiMedia),
            Body.TemporalEntity => ("TemporalEntity", NgsiMedia),
            Body.TemporalFragment => ("TemporalEntity", NgsiMedia),
            Body.Subscription => ("Subscription", NgsiMedia),
            Body.SubscriptionFragment => ("Subscription", NgsiMedia),
            Body.Context => ("Context", ["application/json", "application/ld+json"]),
            Body.VendorUplink => ("Json", ["application/json"]),
            Body.ValidationMode => ("Json", ["application/json"]),
            _ => ("Json", new[] { "application/json" }),
        };
        return new OpenApiRequestBody { Required = true, Content = Content(document, schema, media) };
    }

    public static OpenApiResponse Response(OpenApiDocument document, int status, Answer answer)
    {
        var response = new OpenApiResponse { Description = Describe(status, answer) };
        var schema = answer switch
        {
            Answer.Entity => "Entity",
            Answer.Entities => "Entities",
            Answer.Batch => "BatchOperationResult",
            Answer.PartialSuccess => "UpdateResult",
            Answer.TemporalEntity => "TemporalEntity",
            Answer.TemporalEntities => "Json",
            Answer.Subscription => "Subscription",
            Answer.ContextDocument => "Context",
            Answer.Created or Answer.NoContent or Answer.Text => null,
            _ => "Json",
        };
        if (schema is not null)
            response.Content = Content(document, schema, answer is Answer.Entity or Answer.Entities ? [.. NgsiMedia, "application/geo+json"] : answer is Answer.Json or Answer.ContextDocument ? ["application/json"] : NgsiMedia);
        if (answer is Answer.Text)
            response.Content = new Dictionary<string, OpenApiMediaType> { ["text/plain"] = new() { Schema = new OpenApiSchema { Type = JsonSchemaType.String } } };
        response.Headers = new Dictionary<string, IOpenApiHeader> { [RequestCorrelation.Header] = Header("The request's correlation id") };
        if (answer is Answer.Created) response.Headers["Location"] = Header("URL of the created resource");
        if (answer is Answer.Entities or Answer.TemporalEntities or Answer.Subscriptions)
        {
            response.Headers["NGSILD-Results-Count"] = Header("Total number of matches (with count=true)");
            response.Headers["Link"] = Header("The @context (application/json answers) and next/prev pages");
        }
        else if (answer is Answer.Entity or Answer.TemporalEntity or Answer.Subscription or Answer.TypeList or Answer.AttributeList)
            response.Headers["Link"] = Header("The @context of application/json answers");
        return response;
    }

    public static OpenApiResponse Problem(OpenApiDocument document, string description) => new()
    {
        Description = description,
        Content = Content(document, "ProblemDetails", ["application/json"]),
        Headers = new Dictionary<string, IOpenApiHeader> { [RequestCorrelation.Header] = Header("The request's correlation id, also in requestId") },
    };

    private static string Describe(int status, Answer answer) => (status, answer) switch
    {
        (201, Answer.Created) => "Created; Location names the new resource",
        (201, Answer.Batch) => "Every entity created; the ids",
        (204, _) => "Done",
        (207, _) => "Partly done: what succeeded and what failed, per item",
        (400, _) => "Refused: the request lacks an entity id",
        (202, _) => "Kept as a dead letter for replay",
        _ => "OK",
    };

    private static Dictionary<string, OpenApiMediaType> Content(OpenApiDocument document, string schema, IEnumerable<string> media) =>
        media.ToDictionary(m => m, _ => new OpenApiMediaType { Schema = Ref(document, schema) });

    private static OpenApiSchemaReference Ref(OpenApiDocument document, string name) => new(name, document);

    private static OpenApiHeader Header(string description) => new() { Description = description, Schema = new OpenApiSchema { Type = JsonSchemaType.String } };

    private static OpenApiSchema Open(string description, params (string Name, JsonSchemaType Type, string Description)[] properties) => new()
    {
        Type = JsonSchemaType.Object,
        Description = description,
        Properties = properties.Length == 0 ? null
            : properties.ToDictionary(p => p.Name, p => (IOpenApiSchema)new OpenApiSchema { Type = p.Type, Description = p.Description }),
        AdditionalPropertiesAllowed = true,
    };
}
