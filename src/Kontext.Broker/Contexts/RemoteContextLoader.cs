using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Broker.Hosting;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Storage;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace Kontext.Broker.Contexts;

/// <summary>
/// Dereferences remote @context URLs (D2): memory cache, then the store, then one HTTP fetch with a timeout,
/// a size cap and a Polly retry. Concurrent requests for the same URL share one fetch. A document served as
/// application/json or text/plain is accepted when its body is a JSON-LD context.
/// </summary>
internal sealed class RemoteContextLoader : IContextDocumentLoader
{
    public const string HttpClientName = "jsonld-contexts";
    private readonly ConcurrentDictionary<string, Lazy<Task<JsonNode?>>> _cache = new(StringComparer.Ordinal);
    private readonly IHttpClientFactory _clients;
    private readonly IEntityStorage _storage;
    private readonly HostedContexts _hosted;
    private readonly ContextOptions _options;
    private readonly ResiliencePipeline _pipeline;
    private readonly ILogger<RemoteContextLoader> _logger;

    public RemoteContextLoader(IHttpClientFactory clients, IEntityStorage storage, HostedContexts hosted, IOptions<KontextOptions> options, ILogger<RemoteContextLoader> logger)
    {
        _clients = clients;
        _storage = storage;
        _hosted = hosted;
        _logger = logger;
        _options = options.Value.Contexts;
        var builder = new ResiliencePipelineBuilder();
        if (_options.FetchRetries > 0) builder.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = _options.FetchRetries,
                BackoffType = DelayBackoffType.Exponential,
                Delay = TimeSpan.FromMilliseconds(200),
                ShouldHandle = new PredicateBuilder().Handle<HttpRequestException>().Handle<TimeoutException>(),
            });
        _pipeline = builder.Build();
    }

    public async ValueTask<JsonNode?> LoadContextAsync(string url, CancellationToken cancellationToken)
    {
        var entry = _cache.GetOrAdd(url, u => new Lazy<Task<JsonNode?>>(() => LoadUncachedAsync(u)));
        try
        {
            var context = await entry.Value.WaitAsync(cancellationToken);
            return context?.DeepClone();
        }
        catch (NgsiException)
        {
            _cache.TryRemove(new KeyValuePair<string, Lazy<Task<JsonNode?>>>(url, entry)); // failures are not cached: retry on the next request
            throw;
        }
    }

    /// <summary>Drops the cached copy of a URL (memory and store), so the next use fetches it again.</summary>
    public async Task<bool> ForgetAsync(string url, CancellationToken cancellationToken)
    {
        _cache.TryRemove(url, out _);
        return await _storage.Contexts.DeleteAsync(url, cancellationToken);
    }

    private async Task<JsonNode?> LoadUncachedAsync(string url)
    {
        var hostedId = HostedId(url);
        var document = hostedId is not null ? await _hosted.GetAsync(hostedId, CancellationToken.None) : null;
        document ??= await _storage.Contexts.GetAsync(url, CancellationToken.None);
        if (document is null)
        {
            document = await FetchAsync(url);
            ContextOf(url, document); // validate before keeping it
            await _storage.Contexts.PutAsync(url, document, CancellationToken.None);
        }
        return ContextOf(url, document);
    }

    // A URL of our own jsonldContexts endpoint is answered locally, without a request to ourselves.
    private static string? HostedId(string url)
    {
        const string marker = "/ngsi-ld/v1/jsonldContexts/";
        var at = url.IndexOf(marker, StringComparison.Ordinal);
        return at < 0 ? null : url[(at + marker.Length)..];
    }

    private async Task<string> FetchAsync(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw Unavailable(url, "only http and https URLs can be dereferenced");
        try
        {
            return await _pipeline.ExecuteAsync(async token =>
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
                timeout.CancelAfter(_options.FetchTimeout);
                try
                {
                    var client = _clients.CreateClient(HttpClientName);
                    using var request = new HttpRequestMessage(HttpMethod.Get, uri);
                    request.Headers.Accept.ParseAdd("application/ld+json, application/json;q=0.9, */*;q=0.1");
                    using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                    if ((int)response.StatusCode >= 500 || response.StatusCode == HttpStatusCode.TooManyRequests)
                        throw new HttpRequestException($"HTTP {(int)response.StatusCode}");
                    if (!response.IsSuccessStatusCode) throw Unavailable(url, $"the server answered HTTP {(int)response.StatusCode}");
                    if (response.Content.Headers.ContentLength > _options.MaxDocumentBytes) throw Unavailable(url, "the document is larger than the size cap");
                    await using var stream = await response.Content.ReadAsStreamAsync(timeout.Token);
                    return await ReadCappedAsync(stream, url, timeout.Token);
                }
                catch (OperationCanceledException) when (!token.IsCancellationRequested)
                {
                    throw new TimeoutException($"no answer within {_options.FetchTimeout.TotalSeconds:0.#} s");
                }
            }, CancellationToken.None);
        }
        catch (NgsiException) { throw; }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException)
        {
            _logger.LogWarning("Could not fetch @context {Url}: {Reason}", url, ex.Message);
            throw Unavailable(url, ex.Message);
        }
    }

    private async Task<string> ReadCappedAsync(Stream stream, string url, CancellationToken token)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, token)) > 0)
        {
            if (buffer.Length + read > _options.MaxDocumentBytes) throw Unavailable(url, "the document is larger than the size cap");
            buffer.Write(chunk, 0, read);
        }
        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static JsonNode? ContextOf(string url, string document)
    {
        try
        {
            if (JsonNode.Parse(document) is JsonObject obj && obj.TryGetPropertyValue("@context", out var context)) return context;
        }
        catch (JsonException)
        {
        }
        throw Unavailable(url, "the document is not a JSON-LD context (a JSON object with an @context member)");
    }

    private static NgsiException Unavailable(string url, string reason) =>
        new(NgsiError.LdContextNotAvailable($"The @context '{url}' cannot be used: {reason}"));
}
