using Kontext.Ngsi.Errors;
using Kontext.Ngsi.JsonLd;

namespace Kontext.Broker.Contexts;

/// <summary>Serves hosted @contexts and the bundled core contexts: GET /ngsi-ld/v1/jsonldContexts/{id} (clause 5.13).</summary>
internal static class ContextRoutes
{
    public static void MapContexts(this IEndpointRouteBuilder app)
    {
        app.MapGet("/ngsi-ld/v1/jsonldContexts/{contextId}", async (HttpContext http, string contextId, HostedContexts hosted) =>
        {
            var document = contextId switch
            {
                "ngsi-ld-core-context-v1.8.jsonld" => CoreContext.Document("1.8"),
                "ngsi-ld-core-context-v1.9.jsonld" or "ngsi-ld-core-context.jsonld" => CoreContext.Document("1.9"),
                _ => await hosted.GetAsync(contextId, http.RequestAborted),
            } ?? throw NgsiException.NotFound($"No @context with id '{contextId}'");
            http.Response.ContentType = "application/ld+json";
            await http.Response.WriteAsync(document, http.RequestAborted);
        });
    }
}
