namespace Kontext.Broker.Hosting;

/// <summary>The "Kontext" configuration section (appsettings.json or Kontext__Section__Key environment variables).</summary>
public sealed class KontextOptions
{
    public StorageOptions Storage { get; set; } = new();
    public LimitOptions Limits { get; set; } = new();
    public ContextOptions Contexts { get; set; } = new();
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
    /// <summary>Largest request body accepted; larger ones get 413.</summary>
    public long MaxRequestBodyBytes { get; set; } = 2 * 1024 * 1024;

    /// <summary>Most entities (or ids) one batch operation accepts (/entityOperations/*); more gets 413.</summary>
    public int MaxBatchSize { get; set; } = 1000;

    /// <summary>Page size when a query gives no limit.</summary>
    public int DefaultPageSize { get; set; } = 20;

    /// <summary>Largest limit a query may ask for; beyond it the answer is 403 TooManyResults (clause 6.3.10).</summary>
    public int MaxPageSize { get; set; } = 1000;
}

public sealed class ContextOptions
{
    /// <summary>The core context URL named in responses when the caller gave no context of their own.</summary>
    public string CoreContextUrl { get; set; } = Kontext.Ngsi.JsonLd.CoreContext.V18Url;
    public TimeSpan FetchTimeout { get; set; } = TimeSpan.FromSeconds(5);
    public int FetchRetries { get; set; } = 2;
    public long MaxDocumentBytes { get; set; } = 512 * 1024;
}
