using System.Reflection;
using Kontext.Broker.Hosting;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Storage;
using Microsoft.Extensions.Options;

namespace Kontext.Broker.Operations;

/// <summary>
/// Probes and the build's identity: GET /health/live (the process answers), GET /health/ready (the store answers a read
/// within Kontext:Health:ReadyTimeout; 503 while it does not, and while the broker is shutting down, so a load balancer
/// drains it), GET /version. GET /health stays as it always was: liveness.
/// </summary>
internal static class HealthRoutes
{
    /// <summary>An id no entity has: the readiness read finds nothing, but the store has to answer.</summary>
    private const string ProbeId = "urn:kontext:readiness-probe";

    public static void Map(WebApplication app)
    {
        app.MapGet("/health", Live);
        app.MapGet("/health/live", Live);
        app.MapGet("/health/ready", ReadyAsync);
        app.MapGet("/version", (IOptions<KontextOptions> options) => Results.Json(BuildInfo.Describe(options.Value)));
    }

    private static IResult Live() => Results.Json(new { status = "ok" });

    private static async Task<IResult> ReadyAsync(IEntityStorage storage, IHostApplicationLifetime lifetime, IOptions<KontextOptions> options,
        ILoggerFactory loggers, CancellationToken aborted)
    {
        var store = BuildInfo.StoreKind(options.Value);
        if (lifetime.ApplicationStopping.IsCancellationRequested)
            return Results.Json(new { status = "stopping", store }, statusCode: StatusCodes.Status503ServiceUnavailable);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        timeout.CancelAfter(TimeSpan.FromSeconds(3));
        try
        {
            var tenant = await storage.GetTenantAsync(null, create: false, timeout.Token);
            await tenant!.GetEntityAsync(ProbeId, timeout.Token).WaitAsync(timeout.Token);
            return Results.Json(new { status = "ready", store });
        }
        catch (Exception ex) when (!aborted.IsCancellationRequested)
        {
            // The reason goes to the log, not to an unauthenticated caller (it may name hosts of the database).
            loggers.CreateLogger("Kontext.Health").LogWarning(ex, "Readiness check failed: the {Store} store did not answer", store);
            return Results.Json(new { status = "unavailable", store, detail = "the store did not answer a read; the broker's log has the reason" },
                statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }
}

/// <summary>What this build is and what it speaks: GET /version, and the OpenAPI document's info.</summary>
internal static class BuildInfo
{
    public const string SpecTarget = "1.9.1";
    public const string SpecFloor = "1.8";

    public static string Version { get; } =
        typeof(BuildInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(BuildInfo).Assembly.GetName().Version?.ToString() ?? "unknown";

    public static string StoreKind(KontextOptions options) =>
        options.Storage.Provider.ToLowerInvariant() is "mongo" or "mongodb" ? "mongo" : options.Storage.Provider.ToLowerInvariant();

    public static object Describe(KontextOptions options) => new
    {
        name = "Kontext",
        version = Version,
        ngsiLd = new
        {
            target = SpecTarget,
            floor = SpecFloor,
            coreContext = options.Contexts.CoreContextUrl,
            bundledCoreContexts = new[] { CoreContext.V18Url, CoreContext.V19Url },
        },
        store = StoreKind(options),
        runtime = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
    };
}
