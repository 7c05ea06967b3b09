using Kontext.Adapters;
using Kontext.Broker.Adapters;
using Kontext.Broker.Batch;
using Kontext.Broker.ContextSources;
using Kontext.Broker.Contexts;
using Kontext.Broker.Entities;
using Kontext.Broker.Http;
using Kontext.Broker.Notifications;
using Kontext.Broker.Ogc;
using Kontext.Broker.Operations;
using Kontext.Broker.Outbound;
using Kontext.Broker.Security;
using Kontext.Broker.Snapshots;
using Kontext.Broker.Subscriptions;
using Kontext.Broker.Temporal;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Storage;
using Kontext.Storage.Mongo;
using Kontext.Storage.Sqlite;
using Microsoft.Extensions.Options;

namespace Kontext.Broker.Hosting;

/// <summary>Wiring of the broker: configuration, storage, JSON-LD, the HTTP pipeline and the API areas.</summary>
public static class KontextServices
{
    public static WebApplicationBuilder AddKontext(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.Configure<KontextOptions>(builder.Configuration.GetSection("Kontext"));
        services.AddRequestDiagnostics();
        // Minimal-API JSON answers (admin, health) may carry stored documents: as deep as the stored form allows.
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.MaxDepth = Kontext.Ngsi.Formats.StoredJson.MaxDepth);
        services.AddSingleton<IEntityStorage>(sp => CreateStorage(sp.GetRequiredService<IOptions<KontextOptions>>().Value));
        services.AddSingleton<OutboundPolicy>();
        services.AddSingleton<ClosingPeers>();
        services.AddSingleton<HostedContexts>();
        services.AddSingleton(sp => new BundledContexts(Path.Combine(sp.GetRequiredService<SchemaRegistry>().Root, "contexts"),
            sp.GetRequiredService<IOptions<KontextOptions>>().Value.Contexts.UseBundled));
        services.AddSingleton<RemoteContextLoader>();
        services.AddSingleton<IContextDocumentLoader>(sp => sp.GetRequiredService<RemoteContextLoader>());
        services.AddSingleton(sp =>
        {
            var contexts = sp.GetRequiredService<IOptions<KontextOptions>>().Value.Contexts;
            return new ContextProcessor(sp.GetRequiredService<IContextDocumentLoader>(), contexts.MemoryCacheEntries, contexts.MemoryCacheBytes);
        });
        // Every outbound HTTP client connects through the outbound policy (D12).
        services.AddHttpClient(RemoteContextLoader.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(sp => sp.GetRequiredService<OutboundPolicy>().CreateHttpHandler());
        services.Configure<NotificationOptions>(builder.Configuration.GetSection("Kontext:Notifications"));
        services.AddSingleton<NotificationSignal>();
        services.AddSingleton<MatcherCursor>();
        services.AddSingleton<SubscriptionRegistry>();
        services.AddSingleton<SubscriptionChanges>();
        services.AddSingleton<INotificationTransport, HttpNotificationTransport>();
        services.AddSingleton<INotificationTransport, MqttNotificationTransport>();
        services.AddSingleton<DeliveryOutcomes>();
        services.AddSingleton<WithdrawnSubscriptions>();
        ClosingPeers.AddOutboundClient(services, HttpNotificationTransport.HttpClientName);
        services.AddHostedService<NotificationMatcher>();
        services.AddHostedService<NotificationDispatcher>();
        services.AddHostedService<ExpiryReaper>();
        services.AddSingleton<SnapshotRegistry>();
        services.AddSingleton<SnapshotSources>();
        services.AddContextSources(builder.Configuration);
        EntityMaps.EntityMapRoutes.AddEntityMaps(services, builder.Configuration);
        builder.Services.AddAdapters(builder.Configuration);
        builder.Services.AddOgc(builder.Configuration);
        services.AddAccessControl();
        builder.AddOperations();
        builder.Services.AddSingleton<DataDirectoryLock>();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = null; // the broker caps bodies itself, with a ProblemDetails answer
            kestrel.ConfigureEndpointDefaults(ServerErrorBodies.Use); // and gives Kestrel's own refusals one too
        });
        return builder;
    }

    private static IEntityStorage CreateStorage(KontextOptions kontext)
    {
        var options = kontext.Storage;
        return options.Provider.ToLowerInvariant() switch
        {
            "sqlite" => new SqliteStorage(options.DataDirectory,
                new SqliteStorageLimits(kontext.Limits.MaxTenants, kontext.Limits.MaxOpenTenants, kontext.Limits.CloseIdleTenantAfter,
                    kontext.Limits.MaxReadersPerTenant, kontext.Limits.MaxReaders, kontext.Limits.ReaderWait,
                    kontext.Limits.MaxLargeWriterCaches)),
            "mongo" or "mongodb" => new MongoStorage(options.Mongo.ConnectionString
                ?? throw new InvalidOperationException("Kontext:Storage:Mongo:ConnectionString is required for the mongo provider"),
                new MongoStoreOptions { MaxTenants = kontext.Limits.MaxTenants }),
            _ => throw new InvalidOperationException($"Storage provider '{options.Provider}' is not available in this build (supported: sqlite, mongo)"),
        };
    }

    public static WebApplication UseKontext(this WebApplication app)
    {
        app.Services.GetRequiredService<OutboundPolicy>(); // a malformed Kontext:Outbound setting stops the start, not a request
        app.Services.GetRequiredService<DataDirectoryLock>().Acquire();
        // Steps that only look at the request or register something for the answer share one middleware each side of
        // the error middleware: every layer is a call and a frame on every request.
        var services = new BrokerServices(app.Services);
        app.Use((http, next) =>
        {
            services.Attach(http);
            TenantEcho.Register(http);
            return CallerTrace.CarryAsync(http, next);
        });
        app.UseOperations();
        app.UseMiddleware<NgsiErrorMiddleware>();
        app.Use((http, next) =>
        {
            if (LengthRequired.Answered(http)) return Task.CompletedTask;
            MalformedPaths.Check(http);
            return next(http);
        });
        app.UseOgcExceptions();
        app.UseAccessControl();
        app.Use(RouteParameters.CheckAsync);
        app.MapOperations();
        app.MapEntities();
        app.MapTypesAndAttributes();
        app.MapBatch();
        app.MapContexts();
        app.MapSubscriptions();
        app.MapTemporal();
        app.MapSnapshots();
        app.MapContextSources();
        EntityMaps.EntityMapRoutes.MapEntityMaps(app);
        app.MapAdapters();
        app.MapOgc();
        WebConsole.ConsoleEndpoints.MapConsole(app);
        return app;
    }
}
