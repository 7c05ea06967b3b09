using Kontext.Broker.Hosting;

namespace Kontext.Broker.Operations;

/// <summary>
/// Cross-origin requests from browser applications (a city dashboard, Grafana's browser-mode data sources), allowed for the
/// origins in Kontext:Cors:Origins and for none when it is empty (the default). The NGSI-LD answer headers a client
/// needs are exposed to scripts: Link (@context, pagination), NGSILD-Results-Count, NGSILD-Tenant, Location, and
/// NGSILD-Warning, X-Request-Id, Content-Range, Retry-After. No cookies are involved (credentials are headers), so
/// credentialed CORS stays off and "*" can be used.
/// </summary>
internal static class CorsSetup
{
    public static readonly string[] ExposedHeaders =
    [
        "Link", "NGSILD-Results-Count", "NGSILD-Tenant", "Location", "NGSILD-Warning", RequestCorrelation.Header,
        "Content-Range", "Retry-After", "WWW-Authenticate",
    ];

    public static void AddKontextCors(this WebApplicationBuilder builder)
    {
        builder.Services.AddCors();
        // Configured when first used, from the bound Kontext options (every configuration source is in place by then).
        builder.Services.AddOptions<Microsoft.AspNetCore.Cors.Infrastructure.CorsOptions>()
            .Configure<Microsoft.Extensions.Options.IOptions<KontextOptions>>((cors, kontext) => cors.AddDefaultPolicy(policy =>
            {
                var options = kontext.Value.Cors;
                if (options.Origins.Contains("*")) policy.AllowAnyOrigin();
                else policy.WithOrigins(options.Origins.Select(o => o.TrimEnd('/')).ToArray());
                policy.AllowAnyMethod().AllowAnyHeader().WithExposedHeaders(ExposedHeaders).SetPreflightMaxAge(options.PreflightMaxAge);
            }));
    }

    /// <summary>Before the access check, so a browser's preflight (OPTIONS, no credentials) is answered, not refused.</summary>
    public static void UseKontextCors(this WebApplication app)
    {
        if (app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<KontextOptions>>().Value.Cors.Origins.Count > 0) app.UseCors();
    }

}
