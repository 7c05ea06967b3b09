namespace Kontext.Broker.EntityMaps;

/// <summary>
/// The Entity map resources (clause 5.14; /entityMaps 6.34, /temporal/entityMaps 6.35, /entityMaps/{id} 6.32) and the
/// in-memory store behind them. The consumption operations use maps through <see cref="EntityMapUse"/>.
/// </summary>
internal static class EntityMapRoutes
{
    public const string EntityMaps = "/ngsi-ld/v1/entityMaps";
    public const string TemporalEntityMaps = "/ngsi-ld/v1/temporal/entityMaps";

    public static void MapEntityMaps(this IEndpointRouteBuilder app)
    {
        app.MapGet(EntityMaps, CreateEntityMap.ForQueryAsync);
        app.MapGet(TemporalEntityMaps, CreateEntityMap.ForTemporalQueryAsync);
        app.MapGet(EntityMaps + "/{entityMapId}", RetrieveEntityMap.HandleAsync);
        app.MapPatch(EntityMaps + "/{entityMapId}", UpdateEntityMap.HandleAsync);
        app.MapDelete(EntityMaps + "/{entityMapId}", DeleteEntityMap.HandleAsync);
    }

    public static IServiceCollection AddEntityMaps(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<EntityMapOptions>(configuration.GetSection("Kontext:EntityMaps"));
        services.AddSingleton<EntityMapStore>();
        return services;
    }

    /// <summary>The map id of a path segment: a URI, else BadRequestData (clauses 5.14.1.4, 5.14.2.4, 5.14.3.4).</summary>
    public static string Id(string raw)
    {
        var id = Uri.UnescapeDataString(raw);
        if (!Kontext.Ngsi.Model.Validate.IsUri(id)) throw Kontext.Ngsi.Errors.NgsiException.BadRequestData($"The Entity map id '{id}' is not a URI");
        return id;
    }
}
