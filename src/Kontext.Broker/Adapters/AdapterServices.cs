using Kontext.Adapters;
using Kontext.Broker.Hosting;
using Microsoft.Extensions.Options;

namespace Kontext.Broker.Adapters;

/// <summary>Registration and routes of the vendor adapters (docs/adapters.md).</summary>
public static class AdapterServices
{
    public static IServiceCollection AddAdapters(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AdapterOptions>().Bind(configuration.GetSection("Kontext:Adapters"))
            .Validate(o => o.Sources.Values.All(s => s.Tenant is null || Kontext.Ngsi.Model.Validate.IsTenantName(s.Tenant)),
                "Kontext:Adapters:Sources:*:Tenant must be a valid tenant name (1-128 of A-Z a-z 0-9 - _ . : ~ @ + /)")
            .ValidateOnStart();
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<AdapterOptions>>().Value;
            return new SchemaRegistry(Locate(sp, options.SchemaDirectory));
        });
        services.AddSingleton(sp => new MappingCatalog(
            Locate(sp, sp.GetRequiredService<IOptions<AdapterOptions>>().Value.MappingDirectory), sp.GetRequiredService<ILogger<MappingCatalog>>()));
        services.AddSingleton<AdapterStores>();
        services.AddSingleton<MappingEngine>();
        services.AddSingleton<AdapterEntityWriter>();
        services.AddSingleton<AdapterIngest>();
        services.AddSingleton<SourceGuard>();
        services.AddHostedService<LegacyAdapterStateImport>();
        services.AddHostedService<MqttIngestService>();
        return services;
    }

    public static WebApplication MapAdapters(this WebApplication app)
    {
        var adapters = app.MapGroup("/adapters");
        TtsEndpoint.Map(adapters);
        ChirpStackEndpoint.Map(adapters);
        VendorJsonEndpoint.Map(adapters);
        AdminEndpoints.Map(adapters);
        return app;
    }

    /// <summary>
    /// A configured directory: absolute as given; relative to the content root, the app's base directory, or the first
    /// parent of the content root that has it (so `dotnet run` from src/Kontext.Broker finds the repository's schemas/).
    /// </summary>
    private static string Locate(IServiceProvider services, string directory)
    {
        if (Path.IsPathRooted(directory)) return directory;
        var root = services.GetRequiredService<IHostEnvironment>().ContentRootPath;
        foreach (var candidate in new[] { Path.Combine(root, directory), Path.Combine(AppContext.BaseDirectory, directory) })
            if (Directory.Exists(candidate)) return Path.GetFullPath(candidate);
        for (var dir = new DirectoryInfo(root).Parent; dir is not null; dir = dir.Parent)
            if (Directory.Exists(Path.Combine(dir.FullName, directory))) return Path.Combine(dir.FullName, directory);
        return Path.GetFullPath(Path.Combine(root, directory));
    }
}
