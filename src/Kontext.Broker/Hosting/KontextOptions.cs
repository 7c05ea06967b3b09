namespace Kontext.Broker.Hosting;

/// <summary>The "Kontext" configuration section (appsettings.json or Kontext__Section__Key environment variables).</summary>
public sealed class KontextOptions
{
    public StorageOptions Storage { get; set; } = new();
    public LimitOptions Limits { get; set; } = new();
    public ContextOptions Contexts { get; set; } = new();
    public Outbound.OutboundOptions Outbound { get; set; } = new();
    public AuthOptions Auth { get; set; } = new();
    public CorsOptions Cors { get; set; } = new();
    public MetricsOptions Metrics { get; set; } = new();
    public TransientOptions Transient { get; set; } = new();
    public SnapshotOptions Snapshots { get; set; } = new();
}

/// <summary>The "Kontext:Cors" section: browser applications (dashboards, Grafana in browser mode) on other origins.</summary>
public sealed class CorsOptions
{
    /// <summary>Origins allowed to call the broker from a browser (https://dashboard.city.example); "*" allows any; empty: CORS off.</summary>
    public List<string> Origins { get; set; } = [];

    /// <summary>How long a browser may cache a preflight answer.</summary>
    public TimeSpan PreflightMaxAge { get; set; } = TimeSpan.FromMinutes(10);
}

/// <summary>The "Kontext:Metrics" section: OpenTelemetry metrics, the Prometheus endpoint and OTLP export (docs/operations.md).</summary>
public sealed class MetricsOptions
{
    /// <summary>Serve GET /metrics in the Prometheus text format.</summary>
    public bool Prometheus { get; set; } = true;

    /// <summary>When set, /metrics answers only requests with "Authorization: Bearer &lt;key&gt;" (Prometheus' authorization.credentials).</summary>
    public string? ScrapeKey { get; set; }

    /// <summary>An OTLP collector (http://otel-collector:4317 for gRPC, or :4318 with OtlpProtocol http/protobuf); unset: no export.</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary>grpc or http/protobuf.</summary>
    public string OtlpProtocol { get; set; } = "grpc";

    /// <summary>How long the per-tenant entity counts are reused before the store is asked again (they are read when scraped, never per write).</summary>
    public TimeSpan EntityCountInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Most tenants whose entity counts are reported (the first ones in the store's list); 0: none.</summary>
    public int EntityCountTenants { get; set; } = 100;
}

/// <summary>Snapshots (clause 5.16) are held in memory: these caps bound what they take.</summary>
public sealed class SnapshotOptions
{
    /// <summary>Most snapshots one tenant holds at once; creating one more gets 403 LimitExceeded (0: no cap).</summary>
    public int MaxPerTenant { get; set; } = 10;

    /// <summary>Most entities one snapshot copies; a snapshot whose queries match more ends in status failed.</summary>
    public int MaxEntities { get; set; } = 10_000;
}

/// <summary>Transient entities (clause 4.22): they are gone from reads at their expiresAt; the reaper frees their storage.</summary>
public sealed class TransientOptions
{
    /// <summary>How often expired entities and attribute instances are removed from the store (zero: never, reads still hide them).</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(1);
}

public sealed class StorageOptions
{
    /// <summary>"sqlite" (embedded, default) or "mongo".</summary>
    public string Provider { get; set; } = "sqlite";
    public string DataDirectory { get; set; } = "data";
    public MongoOptions Mongo { get; set; } = new();
}

public sealed class MongoOptions
{
    public string? ConnectionString { get; set; }
}

public sealed class LimitOptions
{
    /// <summary>Sustained NGSI-LD requests per second per principal (or client address when anonymous); 0 = unlimited. Beyond: 429 with Retry-After.</summary>
    public int RequestsPerSecond { get; set; }

    /// <summary>Requests a principal may send at once before <see cref="RequestsPerSecond"/> applies; 0 = one second's worth.</summary>
    public int RequestBurst { get; set; }

    /// <summary>Largest request body accepted; larger ones get 413.</summary>
    public long MaxRequestBodyBytes { get; set; } = 2 * 1024 * 1024;

    /// <summary>Most entities (or ids) one batch operation accepts (/entityOperations/*); more gets 413.</summary>
    public int MaxBatchSize { get; set; } = 1000;

    /// <summary>Page size when a query gives no limit.</summary>
    public int DefaultPageSize { get; set; } = 20;

    /// <summary>Largest limit a query may ask for; beyond it the answer is 403 TooManyResults (clause 6.3.10).</summary>
    public int MaxPageSize { get; set; } = 1000;

    /// <summary>Most tenants the broker holds; a write that would create one more gets 403 LimitExceeded (0: no cap).</summary>
    public int MaxTenants { get; set; } = 1000;

    /// <summary>SQLite: most tenant databases holding files open at once; the least recently used beyond it are closed (reopened on use).</summary>
    public int MaxOpenTenants { get; set; } = 64;

    /// <summary>SQLite: a tenant database unused for this long closes its files.</summary>
    public TimeSpan CloseIdleTenantAfter { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>SQLite: reader connections one tenant database holds open at once; reads beyond it wait for one to come back.</summary>
    public int MaxReadersPerTenant { get; set; } = Kontext.Storage.Sqlite.SqliteStorageLimits.DefaultReadersPerTenant;

    /// <summary>SQLite: reader connections open at once across all tenants; at it, a read takes over another tenant's idle one or waits.</summary>
    public int MaxReaders { get; set; } = Kontext.Storage.Sqlite.SqliteStorageLimits.DefaultReaders;

    /// <summary>SQLite: the longest a read waits for a reader connection at either cap; then the request answers 503 with Retry-After.</summary>
    public TimeSpan ReaderWait { get; set; } = Kontext.Storage.Sqlite.SqliteStorageLimits.DefaultReaderWait;

    /// <summary>SQLite: tenant writers keeping their full 16 MiB page cache at once; writers opened beyond it use 2 MiB.</summary>
    public int MaxLargeWriterCaches { get; set; } = Kontext.Storage.Sqlite.SqliteStorageLimits.DefaultLargeWriterCaches;

    /// <summary>Most subscriptions one tenant may hold; creating one more gets 403 LimitExceeded (0: no cap).</summary>
    public int MaxSubscriptionsPerTenant { get; set; } = 500;

    /// <summary>Most context source registrations one tenant may hold; creating one more gets 403 LimitExceeded (0: no cap).</summary>
    public int MaxRegistrationsPerTenant { get; set; } = 1000;

    /// <summary>Most subscriptions to context source registrations one tenant may hold; one more gets 403 LimitExceeded (0: no cap).</summary>
    public int MaxRegistrationSubscriptionsPerTenant { get; set; } = 500;
}

public sealed class ContextOptions
{
    /// <summary>The core context URL named in responses when the caller gave no context of their own.</summary>
    public string CoreContextUrl { get; set; } = Kontext.Ngsi.JsonLd.CoreContext.V18Url;
    public TimeSpan FetchTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Answer the published URLs of the smart-data-models @contexts shipped in schemas/contexts (contexts.json) from those
    /// files, without the network. Off: every such URL is fetched like any other.
    /// </summary>
    public bool UseBundled { get; set; } = true;
    public int FetchRetries { get; set; } = 2;

    /// <summary>Largest @context document fetched or hosted; a larger hosted one is 413.</summary>
    public long MaxDocumentBytes { get; set; } = 512 * 1024;

    /// <summary>Hosted @contexts (added, or inline ones named in Link headers) per tenant; beyond it adding one is 403.</summary>
    public int MaxHostedPerTenant { get; set; } = 500;

    /// <summary>Total size of one tenant's hosted @contexts; beyond it adding one is 403.</summary>
    public long MaxHostedBytesPerTenant { get; set; } = 16 * 1024 * 1024;

    /// <summary>Fetched remote @contexts kept in the store; beyond either cap the oldest are dropped (fetched again when used).</summary>
    public int MaxCachedDocuments { get; set; } = 1000;

    public long MaxCachedBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>Processed @contexts kept in memory, by count and by estimated size; the least recently used go first.</summary>
    public int MemoryCacheEntries { get; set; } = 2000;

    public long MemoryCacheBytes { get; set; } = 64 * 1024 * 1024;
}

/// <summary>The "Kontext:Auth" section: who may call the broker (docs/security.md).</summary>
public sealed class AuthOptions
{
    /// <summary>none (open: the zero-setup default), apikey, oidc, or both as "apikey,oidc".</summary>
    public string Mode { get; set; } = "none";

    /// <summary>API keys by name (the name is the principal: logs and rate limits).</summary>
    public Dictionary<string, ApiKeyOptions> ApiKeys { get; set; } = new(StringComparer.Ordinal);

    public OidcOptions Oidc { get; set; } = new();
}

public sealed class ApiKeyOptions
{
    /// <summary>The secret, sent as "Authorization: ApiKey &lt;key&gt;" or in X-Api-Key.</summary>
    public string? Key { get; set; }

    /// <summary>Tenants the key may touch: names, "urn:ngsi-ld:tenant:default" for the default tenant, "*" for all.</summary>
    public List<string> Tenants { get; set; } = [];

    /// <summary>read, write, admin (admin includes the other two).</summary>
    public List<string> Roles { get; set; } = [];
}

public sealed class OidcOptions
{
    /// <summary>The issuer; its /.well-known/openid-configuration names the signing keys.</summary>
    public string? Authority { get; set; }

    /// <summary>The audience a token must name (its "aud").</summary>
    public string? Audience { get; set; }

    /// <summary>The claim listing the caller's tenants; a dotted path reaches into a JSON claim (e.g. "kontext.tenants").</summary>
    public string TenantsClaim { get; set; } = "tenants";

    /// <summary>The claim listing the caller's roles; Keycloak's realm roles are "realm_access.roles".</summary>
    public string RolesClaim { get; set; } = "roles";

    /// <summary>Metadata must come over https, except from an http authority on the loopback address (a local issuer).</summary>
    public bool RequireHttpsMetadata { get; set; } = true;
}

