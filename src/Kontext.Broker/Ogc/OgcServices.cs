using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Kontext.Broker.Ogc;

/// <summary>
/// Wiring of the OGC API – Features (docs/ogc.md). Its routes are mapped under "/{ogcApi:ogcmount}": the constraint
/// admits only the configured mount (Kontext:Ogc:BasePath), so the route patterns — the keys of the rights table — stay
/// the same whatever the mount.
/// </summary>
public static class OgcServices
{
    public const string Mount = "/{ogcApi:" + OgcMountConstraint.Name + "}";

    public static IServiceCollection AddOgc(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<OgcOptions>().Bind(configuration.GetSection(OgcOptions.Section))
            .Validate(o => o.IsValid(out _), "Kontext:Ogc: BasePath must be one free path segment (e.g. /ogc), DefaultLimit ≥ 1, MaxLimit ≥ DefaultLimit")
            .ValidateOnStart();
        services.Configure<RouteOptions>(routes => routes.SetParameterPolicy<OgcMountConstraint>(OgcMountConstraint.Name));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<TenantChanges>();
        services.AddSingleton<SdmContexts>();
        services.AddSingleton<CollectionCatalog>();
        services.AddSingleton<CollectionExtents>();
        return services;
    }

    /// <summary>OGC exception documents for every failure under the mount; place it inside the NGSI-LD error handling.</summary>
    public static WebApplication UseOgcExceptions(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<OgcOptions>>().Value.Enabled) app.UseMiddleware<OgcExceptionMiddleware>();
        return app;
    }

    public static WebApplication MapOgc(this WebApplication app)
    {
        if (!app.Services.GetRequiredService<IOptions<OgcOptions>>().Value.Enabled) return app;
        // The OGC API describes itself (OpenAPI 3.0 at {mount}/api, as its Part 1 requires); the NGSI-LD document leaves it out.
        var ogc = app.MapGroup(Mount).ExcludeFromDescription();
        ogc.MapGet("/", LandingPage.GetAsync);
        ogc.MapGet("/conformance", Conformance.GetAsync);
        ogc.MapGet("/api", ApiDefinition.GetAsync);
        ogc.MapGet("/api.html", ApiDocumentation.GetAsync);
        ogc.MapGet("/collections", Collections.ListAsync);
        ogc.MapGet("/collections/{collectionId}", (HttpContext http, string collectionId, CollectionCatalog catalog, CollectionExtents extents) =>
            Collections.GetAsync(http, OgcRequest.RouteValue(collectionId), catalog, extents));
        ogc.MapGet("/collections/{collectionId}/items", (HttpContext http, string collectionId, CollectionCatalog catalog) =>
            Items.GetAsync(http, OgcRequest.RouteValue(collectionId), catalog));
        ogc.MapGet("/collections/{collectionId}/items/{featureId}", (HttpContext http, string collectionId, string featureId, CollectionCatalog catalog) =>
            Item.GetAsync(http, OgcRequest.RouteValue(collectionId), OgcRequest.RouteValue(featureId), catalog));
        return app;
    }
}

/// <summary>Matches the one path segment Kontext:Ogc:BasePath names.</summary>
internal sealed class OgcMountConstraint(IOptions<OgcOptions> options) : IRouteConstraint
{
    public const string Name = "ogcmount";

    public bool Match(HttpContext? httpContext, IRouter? route, string routeKey, RouteValueDictionary values, RouteDirection routeDirection) =>
        values.TryGetValue(routeKey, out var value) && string.Equals(value?.ToString(), options.Value.Segment, StringComparison.Ordinal);
}
