using System.Security.Cryptography;
using System.Text;
using Kontext.Broker.Hosting;
using Kontext.Ngsi.Storage;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Kontext.Broker.Operations.Metrics;

/// <summary>
/// OpenTelemetry metrics (Kontext:Metrics): ASP.NET Core's HTTP server and Kestrel meters (requests by route, status and
/// duration), the .NET runtime's, the stores' latency (<see cref="StorageMetrics"/>) and the broker's own
/// (<see cref="KontextMeters"/>, <see cref="EntityCounts"/>); read at GET /metrics in the Prometheus format, and pushed to
/// an OTLP collector when Kontext:Metrics:OtlpEndpoint is set.
/// </summary>
internal static class MetricsSetup
{
    public const string Path = "/metrics";

    public static void AddKontextMetrics(this WebApplicationBuilder builder)
    {
        // Read at start-up (the OTLP exporter is built then); Kontext:Metrics:Prometheus only decides whether /metrics is mapped.
        var options = builder.Configuration.GetSection("Kontext:Metrics").Get<MetricsOptions>() ?? new MetricsOptions();
        builder.Services.AddSingleton<EntityCounts>();
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("kontext", serviceVersion: BuildInfo.Version))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(KontextMeters.MeterName, StorageMetrics.MeterName,
                    "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Runtime");
                metrics.AddPrometheusExporter(prometheus => prometheus.ScrapeResponseCacheDurationMilliseconds = 0);
                if (!string.IsNullOrWhiteSpace(options.OtlpEndpoint))
                    metrics.AddOtlpExporter(otlp =>
                    {
                        otlp.Endpoint = new Uri(options.OtlpEndpoint);
                        otlp.Protocol = options.OtlpProtocol.Equals("http/protobuf", StringComparison.OrdinalIgnoreCase)
                            ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
                    });
            });
    }

    public static void MapKontextMetrics(this WebApplication app)
    {
        app.Services.GetRequiredService<EntityCounts>(); // joins the gauge
        var options = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<KontextOptions>>().Value.Metrics;
        if (!options.Prometheus) return;
        var keyDigest = string.IsNullOrEmpty(options.ScrapeKey) ? null : SHA256.HashData(Encoding.UTF8.GetBytes(options.ScrapeKey));
        app.MapPrometheusScrapingEndpoint(Path, meterProvider: null, configureBranchedPipeline: branch => branch.Use(async (http, next) =>
            {
                if (keyDigest is not null && !Authorized(http, keyDigest))
                {
                    http.Response.OnStarting(() =>
                    {
                        http.Response.Headers.WWWAuthenticate = "Bearer realm=\"kontext-metrics\"";
                        return Task.CompletedTask;
                    });
                    throw Security.AccessProblems.Unauthorized("The metrics need Authorization: Bearer <Kontext:Metrics:ScrapeKey>");
                }
                await next(http);
            }), optionsName: null)
            .WithMetadata(new HttpMethodMetadata(["GET"]))
            .WithDisplayName("Prometheus metrics");
    }

    private static bool Authorized(HttpContext http, byte[] keyDigest)
    {
        var authorization = http.Request.Headers.Authorization.ToString();
        if (!authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return false;
        var sent = SHA256.HashData(Encoding.UTF8.GetBytes(authorization["Bearer ".Length..].Trim()));
        return CryptographicOperations.FixedTimeEquals(sent, keyDigest);
    }
}
