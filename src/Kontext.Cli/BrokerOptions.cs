using System.CommandLine;
using System.Net.Http.Headers;

namespace Kontext.Cli;

/// <summary>The options naming a broker and the caller, on every command (also read from KONTEXT_URL, KONTEXT_API_KEY, KONTEXT_TOKEN).</summary>
internal sealed class BrokerOptions
{
    public Option<string> Url { get; } = new("--url")
    {
        Description = "The broker's base URL (env KONTEXT_URL)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("KONTEXT_URL") ?? "http://localhost:1026",
        Recursive = true,
    };

    public Option<string?> Tenant { get; } = new("--tenant")
    {
        Description = "NGSILD-Tenant (default: the default tenant)",
        Recursive = true,
    };

    public Option<string?> ApiKey { get; } = new("--api-key")
    {
        Description = "API key sent as X-Api-Key (env KONTEXT_API_KEY)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("KONTEXT_API_KEY"),
        Recursive = true,
    };

    public Option<string?> Token { get; } = new("--token")
    {
        Description = "OIDC bearer token (env KONTEXT_TOKEN)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("KONTEXT_TOKEN"),
        Recursive = true,
    };

    public IEnumerable<Option> All => [Url, Tenant, ApiKey, Token];

    /// <summary>A client for the broker the command line names; the tests hand in their in-process server's handler.</summary>
    public HttpClient CreateClient(ParseResult parsed, HttpMessageHandler? handler)
    {
        var client = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        client.BaseAddress = new Uri(parsed.GetValue(Url)!.TrimEnd('/') + "/");
        client.Timeout = TimeSpan.FromMinutes(5);
        if (parsed.GetValue(Tenant) is { Length: > 0 } tenant) client.DefaultRequestHeaders.Add("NGSILD-Tenant", tenant);
        if (parsed.GetValue(ApiKey) is { Length: > 0 } key) client.DefaultRequestHeaders.Add("X-Api-Key", key);
        if (parsed.GetValue(Token) is { Length: > 0 } token) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("kontext-cli", typeof(BrokerOptions).Assembly.GetName().Version?.ToString() ?? "0"));
        return client;
    }
}
