using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Broker.Hosting;
using Kontext.Broker.Outbound;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Storage;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace Kontext.Broker.Contexts;

/// <summary>
/// Dereferences remote @context URLs (D2): the shipped smart-data-models contexts first (<see cref="BundledContexts"/>),
/// then the store, then one HTTP fetch through the outbound policy with a
/// timeout, a size cap, a Polly retry and redirects followed by hand (each hop passes the policy, at most
/// Kontext:Outbound:MaxRedirects). Concurrent requests for one URL share one fetch. What is kept and served back is the
/// document's @context member alone. A document served as application/json or text/plain is accepted when its body is
/// a JSON-LD context.
/// <para>
/// Failures say nothing about the network: refused by the policy, unreachable, timed out, an error status or too large
/// all give the same LdContextNotAvailable detail (the log has the reason). A document that arrived but is not a
/// JSON-LD context is BadRequestData, as clause 5.5.6 asks.
/// </para>
/// </summary>
internal sealed class RemoteContextLoader : IContextDocumentLoader
{
    public const string HttpClientName = "jsonld-contexts";
    private readonly ConcurrentDictionary<string, Task<string>> _fetching = new(StringComparer.Ordinal);
    private readonly IHttpClientFactory _clients;
    private readonly IEntityStorage _storage;
    private readonly HostedContexts _hosted;
    private readonly BundledContexts _bundled;
    private readonly ContextOptions _options;
    private readonly int _maxRedirects;
    private readonly ResiliencePipeline _pipeline;
    private readonly ILogger<RemoteContextLoader> _logger;

    public RemoteContextLoader(IHttpClientFactory clients, IEntityStorage storage, HostedContexts hosted, BundledContexts bundled,
        IOptions<KontextOptions> options, ILogger<RemoteContextLoader> logger)
    {
        _bundled = bundled;
        _clients = clients;
        _storage = storage;
        _hosted = hosted;
        _logger = logger;
        _options = options.Value.Contexts;
        _maxRedirects = options.Value.Outbound.MaxRedirects;
        var builder = new ResiliencePipelineBuilder();
        if (_options.FetchRetries > 0) builder.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = _options.FetchRetries,
                BackoffType = DelayBackoffType.Exponential,
                Delay = TimeSpan.FromMilliseconds(200),
                // A refusal by the outbound policy is final: asking again changes nothing.
                ShouldHandle = new PredicateBuilder()
                    .Handle<HttpRequestException>(ex => OutboundRefusedException.In(ex) is null)
                    .Handle<TimeoutException>(),
            });
        _pipeline = builder.Build();
    }

    public async ValueTask<JsonNode?> LoadContextAsync(string url, CancellationToken cancellationToken)
    {
        var mine = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var load = _fetching.GetOrAdd(url, mine.Task);
        if (load == mine.Task) _ = LoadSharedAsync(url, mine);
        return ContextOf(url, await load.WaitAsync(cancellationToken));
    }

    // Leaves the shared map before completing, so a finished load (or a failure) is never handed out again.
    // Started by the first request to ask, it carries that request's trace context (CallerTrace, Activity.Current): the
    // fetch is a span of that request's trace; the requests that join it wait for it without a span of their own.
    private async Task LoadSharedAsync(string url, TaskCompletionSource<string> completion)
    {
        try
        {
            var document = await LoadDocumentAsync(url);
            _fetching.TryRemove(new KeyValuePair<string, Task<string>>(url, completion.Task));
            completion.SetResult(document);
        }
        catch (Exception ex)
        {
            _fetching.TryRemove(new KeyValuePair<string, Task<string>>(url, completion.Task));
            completion.SetException(ex);
        }
    }

    /// <summary>
    /// Fetches a cached URL again now and keeps the new document; when the fetch fails the stored copy stays as it was
    /// (504 LdContextNotAvailable, clause 5.13.5).
    /// </summary>
    public async Task ReloadAsync(string url, CancellationToken cancellationToken)
    {
        var document = Normalize(url, await FetchAsync(url).WaitAsync(cancellationToken));
        await KeepAsync(url, document);
    }

    /// <summary>Drops the stored copy of a URL, so the next use fetches it again.</summary>
    public Task<bool> ForgetAsync(string url, CancellationToken cancellationToken) => _storage.Contexts.DeleteAsync(url, cancellationToken);

    /// <summary>The @context member of a stored or fetched document, as the one-member document that is kept and served.</summary>
    public static string Normalize(string url, string document) => new JsonObject { ["@context"] = ContextOf(url, document) }.ToJsonString();

    private async Task<string> LoadDocumentAsync(string url)
    {
        if (_bundled.Find(url) is { } shipped) return shipped;
        if (HostedId(url) is { } hostedId && await _hosted.GetAsync(hostedId, CancellationToken.None) is { } hosted) return hosted;
        if (await _storage.Contexts.GetAsync(url, CancellationToken.None) is { } stored) return stored;
        var document = Normalize(url, await FetchAsync(url));
        await KeepAsync(url, document);
        return document;
    }

    // A URL of our own jsonldContexts endpoint is answered locally, without a request to ourselves.
    private static string? HostedId(string url)
    {
        const string marker = "/ngsi-ld/v1/jsonldContexts/";
        var at = url.IndexOf(marker, StringComparison.Ordinal);
        return at < 0 ? null : url[(at + marker.Length)..];
    }

    /// <summary>Stores a fetched document, first dropping the oldest fetched ones beyond the count and byte caps.</summary>
    private async Task KeepAsync(string url, string document)
    {
        long bytes = System.Text.Encoding.UTF8.GetByteCount(document);
        if (bytes > _options.MaxCachedBytes || _options.MaxCachedDocuments <= 0) return; // used for this request, not kept
        var cached = (await _storage.Contexts.ListAsync(CancellationToken.None))
            .Where(e => HostedContexts.FromKey(e.Key) is null && e.Key != url)
            .ToList(); // oldest first
        var count = cached.Count;
        var total = cached.Sum(e => e.Bytes);
        foreach (var oldest in cached)
        {
            if (count < _options.MaxCachedDocuments && total + bytes <= _options.MaxCachedBytes) break;
            await _storage.Contexts.DeleteAsync(oldest.Key, CancellationToken.None);
            _logger.LogInformation("Dropped the cached @context {Url} to stay within the cache caps", oldest.Key);
            count--;
            total -= oldest.Bytes;
        }
        await _storage.Contexts.PutAsync(url, document, CancellationToken.None);
    }

    private async Task<string> FetchAsync(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw new NgsiException(NgsiError.LdContextNotAvailable($"The @context '{url}' cannot be used: only http and https URLs can be dereferenced"));
        try
        {
            return await _pipeline.ExecuteAsync(async token =>
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
                timeout.CancelAfter(_options.FetchTimeout);
                try
                {
                    return await FetchFollowingRedirectsAsync(uri, timeout.Token);
                }
                catch (OperationCanceledException) when (!token.IsCancellationRequested)
                {
                    throw new TimeoutException($"no answer within {_options.FetchTimeout.TotalSeconds:0.#} s");
                }
            }, CancellationToken.None);
        }
        catch (Exception ex) when (ex is not NgsiException)
        {
            _logger.LogWarning("Could not fetch @context {Url}: {Reason}", url, OutboundRefusedException.In(ex)?.Message ?? ex.Message);
            throw Unavailable(url);
        }
    }

    private async Task<string> FetchFollowingRedirectsAsync(Uri uri, CancellationToken token)
    {
        var client = _clients.CreateClient(HttpClientName);
        for (var hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            request.Headers.Accept.ParseAdd("application/ld+json, application/json;q=0.9, */*;q=0.1");
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token);
            if (IsRedirect(response.StatusCode))
            {
                if (hop >= _maxRedirects) throw new FetchFailedException($"more than {_maxRedirects} redirects");
                var location = response.Headers.Location ?? throw new FetchFailedException("a redirect without a Location");
                uri = location.IsAbsoluteUri ? location : new Uri(uri, location);
                if (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) throw new FetchFailedException($"a redirect to {uri.Scheme}");
                continue;
            }
            if ((int)response.StatusCode >= 500 || response.StatusCode == HttpStatusCode.TooManyRequests)
                throw new HttpRequestException($"HTTP {(int)response.StatusCode}"); // worth a retry
            if (!response.IsSuccessStatusCode) throw new FetchFailedException($"HTTP {(int)response.StatusCode} from {uri}");
            if (response.Content.Headers.ContentLength > _options.MaxDocumentBytes) throw new FetchFailedException("larger than Kontext:Contexts:MaxDocumentBytes");
            await using var stream = await response.Content.ReadAsStreamAsync(token);
            return await ReadCappedAsync(stream, token);
        }
    }

    private static bool IsRedirect(HttpStatusCode status) => status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found
        or HttpStatusCode.SeeOther or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;

    private async Task<string> ReadCappedAsync(Stream stream, CancellationToken token)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, token)) > 0)
        {
            if (buffer.Length + read > _options.MaxDocumentBytes) throw new FetchFailedException("larger than Kontext:Contexts:MaxDocumentBytes");
            buffer.Write(chunk, 0, read);
        }
        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static JsonNode? ContextOf(string url, string document)
    {
        try
        {
            if (JsonNode.Parse(document) is JsonObject obj && obj.TryGetPropertyValue("@context", out var context))
            {
                obj.Remove("@context"); // detached, so it can be placed in another document
                return context;
            }
        }
        catch (JsonException)
        {
        }
        throw NgsiException.BadRequestData($"The document at '{url}' is not a JSON-LD context (a JSON object with an @context member)");
    }

    private static NgsiException Unavailable(string url) => new(NgsiError.LdContextNotAvailable(
        $"The @context '{url}' could not be retrieved: the server is unreachable or refused by the broker's outbound policy, " +
        "or it answered with an error or a document too large"));

    /// <summary>A fetch that failed for good (no retry): an error status, a redirect loop, a document too large.</summary>
    private sealed class FetchFailedException(string reason) : Exception(reason);
}
