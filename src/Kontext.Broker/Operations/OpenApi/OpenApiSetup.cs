using Scalar.AspNetCore;

namespace Kontext.Broker.Operations.OpenApi;

/// <summary>The OpenAPI 3.1 document at /openapi/v1.json (Microsoft.AspNetCore.OpenApi) and its Scalar reference page at /docs.</summary>
internal static class OpenApiSetup
{
    public const string DocumentPattern = "/openapi/{documentName}.json";
    public const string ReferencePath = "/docs";

    public static void AddKontextOpenApi(this WebApplicationBuilder builder)
    {
        builder.Services.AddOpenApi("v1", options =>
        {
            options.OpenApiVersion = Microsoft.OpenApi.OpenApiSpecVersion.OpenApi3_1;
            options.AddDocumentTransformer<KontextDocumentTransformer>();
            // The routes serving the description are not part of it.
            options.ShouldInclude = description => !ApiCatalog.Undescribed.Contains(Security.RouteRights.Normalize(description.RelativePath is { } p ? "/" + p : ""));
        });
    }

    public static void MapKontextOpenApi(this WebApplication app)
    {
        app.MapOpenApi(DocumentPattern);
        app.MapScalarApiReference(ReferencePath, options => options
            .WithTitle("Kontext NGSI-LD broker")
            .WithOpenApiRoutePattern(DocumentPattern)
            .DisableDefaultFonts()); // no font CDN: the page works on an air-gapped site
    }
}
