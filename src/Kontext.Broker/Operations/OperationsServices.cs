using Kontext.Broker.Operations.Metrics;
using Kontext.Broker.Operations.OpenApi;

namespace Kontext.Broker.Operations;

/// <summary>
/// Running the broker (docs/operations.md): request ids and the access log, CORS, probes and /version, metrics, the
/// OpenAPI document and its reference page.
/// </summary>
public static class OperationsServices
{
    public static WebApplicationBuilder AddOperations(this WebApplicationBuilder builder)
    {
        builder.AddKontextCors();
        builder.AddKontextMetrics();
        builder.AddKontextOpenApi();
        return builder;
    }

    /// <summary>First in the pipeline: every answer, errors included, gets its request id and CORS headers.</summary>
    public static WebApplication UseOperations(this WebApplication app)
    {
        app.UseMiddleware<RequestCorrelation>();
        app.UseKontextCors();
        return app;
    }

    public static WebApplication MapOperations(this WebApplication app)
    {
        HealthRoutes.Map(app);
        app.MapKontextMetrics();
        app.MapKontextOpenApi();
        return app;
    }
}
