using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using Kontext.Broker.Hosting;
using Kontext.Broker.Http;
using Kontext.Broker.Outbound;
using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.Subscriptions;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Timeout;

namespace Kontext.Broker.ContextSources;

/// <summary>
/// A request for a context source, relative to its NGSI-LD API root: e.g. GET <c>entities?type=Vehicle&amp;attrs=speed</c>.
/// <paramref name="ContextUrl"/> names the @context the request's terms are in (null: the core context);
/// <paramref name="Via"/> is the Via header the broker received, if any (clause 6.3.18).
/// </summary>
internal sealed record ContextSourceRequest(
    HttpMethod Method,
    string Resource,
    string? ContextUrl = null,
    string? Via = null,
    string? Body = null,
    string ContentType = "application/json",
    string Accept = "application/json")
{
    /// <summary>The headers of the request that caused this one, for contextSourceInfo values of urn:ngsi-ld:request (clause 4.3.6.5).</summary>
    public IHeaderDictionary? Triggering { get; init; }
}

/// <summary>What came back from a source: an answer (any status), or why there is none.</summary>
internal sealed record ContextSourceResponse(
    int Status,
    string? ContentType,
    byte[] Body,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    ContextSourceFailure? Failure = null)
{
    public bool Answered => Failure is null;

    public string Text => Encoding.UTF8.GetString(Body);

    public static ContextSourceResponse Failed(ContextSourceFailure failure, string detail) => new(0, null, [], [], failure) { Detail = detail };

    /// <summary>Why there was no answer, for logs and for the warnings of a partial result (never the source's address).</summary>
    public string? Detail { get; init; }

    /// <summary>No connection to the source could be opened at all (refused, unreachable, unknown host): nothing was sent.</summary>
    public bool NotConnected { get; init; }
}

public enum ContextSourceFailure { Timeout, Unreachable, Refused, CoolingDown, TooLarge }

/// <summary>
/// The one way the broker talks to a registered context source (clause 4.3.6), for the distributed operations. Each request:
/// <list type="bullet">
/// <item>goes to the registration's endpoint (its NGSI-LD root, "/ngsi-ld/v1" added unless the endpoint names it) through
/// the outbound policy (D12), with no redirect followed;</item>
/// <item>carries the @context as a Link header (or the one contextSourceInfo names with the key jsonldContext, clause
/// 4.3.6.6), the registration's tenant as NGSILD-Tenant, the other contextSourceInfo pairs as headers (clause 4.3.6.5),
/// and Via with this broker's alias appended to what it received (clause 6.3.18);</item>
/// <item>runs in the source's own Polly pipeline, with the registration's management.timeout (or Kontext:Federation:ForwardTimeout);</item>
/// <item>is not sent at all while the source cools down after a failure (management.cooldown, or Kontext:Federation:Cooldown;
/// a source no connection could be opened to at all cools down for at least Kontext:Federation:UnreachableCooldown, so a
/// dead source costs one attempt per period instead of one per request). Polly's circuit breaker needs at least two calls
/// to open, and clause 5.2.34 cools a source down after one failure, so the cooldown is a gate of its own beside the pipeline;
/// it is kept per registration and endpoint, so a new or re-pointed registration is always tried at once;</item>
/// <item>is sent once more, on a connection of its own, when it is repeatable (<see cref="IsRepeatable"/>) and the answer
/// ended before its headers; a source that closes its connections after each answer (HTTP/1.0 without keep-alive) gets
/// a connection of its own for every request (<see cref="ClosingPeers"/>).</item>
/// </list>
/// It never throws for a source's failure: a slow, unreachable or refused source is an answer without a response, so a
/// distributed operation can return partial results with a warning instead of failing or hanging.
/// </summary>
internal sealed class ContextSourceClient(IHttpClientFactory clients, ContextSourceIdentity identity, IOptions<FederationOptions> federation,
    IOptions<KontextOptions> kontext, ClosingPeers closingPeers, ILogger<ContextSourceClient> logger)
{
    public const string HttpClientName = "context-sources";

    private const string ApiRoot = "/ngsi-ld/v1";

    /// <summary>Bounds the per-source state below: past it the state is dropped, which costs only a first attempt again.</summary>
    private const int MaxRemembered = 10_000;

    private readonly ConcurrentDictionary<(string Registration, Uri Endpoint, TimeSpan Timeout), SourceLine> _sources = new();

    /// <summary>One source's pipeline, its cooldown and whether it is failing (its failure is logged once, not per request).</summary>
    private sealed class SourceLine(ResiliencePipeline pipeline, string authority)
    {
        public ResiliencePipeline Pipeline { get; } = pipeline;

        /// <summary>The endpoint's scheme, host and port: what shares a connection pool.</summary>
        public string Authority { get; } = authority;
        private long _coolUntilTicks;
        private int _failing;

        public DateTimeOffset? CoolingUntil(DateTimeOffset now) =>
            Interlocked.Read(ref _coolUntilTicks) is var ticks && ticks > now.UtcTicks ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

        public void CoolDown(DateTimeOffset until) => Interlocked.Exchange(ref _coolUntilTicks, until.UtcTicks);

        /// <summary>Marks the source failing; true when it was not failing before (the failure is news).</summary>
        public bool Failed() => Interlocked.Exchange(ref _failing, 1) == 0;

        /// <summary>Clears the cooldown; true when the source was failing before (its recovery is news).</summary>
        public bool Answered()
        {
            Interlocked.Exchange(ref _coolUntilTicks, 0);
            return Interlocked.Exchange(ref _failing, 0) == 1;
        }
    }

    /// <summary>Sends <paramref name="request"/> to the source of <paramref name="registration"/>; <paramref name="tenant"/> is the local tenant asking.</summary>
    public async Task<ContextSourceResponse> SendAsync(Registration registration, ContextSourceRequest request, string? tenant, CancellationToken cancellationToken)
    {
        var options = federation.Value;
        var timeout = registration.Management.TimeoutMs is { } ms ? TimeSpan.FromMilliseconds(ms) : options.ForwardTimeout;
        var key = (registration.Id, registration.Endpoint, timeout);
        if (!_sources.TryGetValue(key, out var line))
        {
            // Count takes every lock of the dictionary: only asked when a source is new.
            if (_sources.Count >= MaxRemembered) _sources.Clear();
            line = _sources.GetOrAdd(key, _ => new SourceLine(new ResiliencePipelineBuilder().AddTimeout(timeout).Build(),
                ClosingPeers.Peer(registration.Endpoint)));
        }
        if (line.CoolingUntil(DateTimeOffset.UtcNow) is { } until)
            return ContextSourceResponse.Failed(ContextSourceFailure.CoolingDown, $"the context source failed recently and is left alone until {until:O}");

        var result = await SendThroughAsync(line, registration, request, tenant, timeout, cancellationToken);
        // A source that answers at all is up; one that could not be reached or answered 5xx is given its cooldown.
        var cooldown = Cooldown(registration, result, options);
        if (cooldown > TimeSpan.Zero && (result.Failure is ContextSourceFailure.Timeout or ContextSourceFailure.Unreachable || result.Status >= 500))
            line.CoolDown(DateTimeOffset.UtcNow + cooldown);
        else if (result.Answered && line.Answered())
            logger.LogInformation("Context source {Registration} answers again", registration.Id);
        return result;
    }

    /// <summary>
    /// The registration's management.cooldown (clause 5.2.34) when it has one; else Kontext:Federation:Cooldown, and for a
    /// source no connection could be opened to at least Kontext:Federation:UnreachableCooldown. Only a failure starts a
    /// cooldown, so the default never delays the first request to a newly registered source.
    /// </summary>
    private static TimeSpan Cooldown(Registration registration, ContextSourceResponse result, FederationOptions options) =>
        registration.Management.CooldownMs is { } ms ? TimeSpan.FromMilliseconds(ms)
        : result.NotConnected && options.UnreachableCooldown > options.Cooldown ? options.UnreachableCooldown
        : options.Cooldown;

    private async Task<ContextSourceResponse> SendThroughAsync(SourceLine line, Registration registration, ContextSourceRequest request,
        string? tenant, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            return await line.Pipeline.ExecuteAsync(async token =>
            {
                using var response = await ConnectAsync(line.Authority, registration, request, tenant, token);
                var body = await ReadCappedAsync(response, token);
                if (body is null) return ContextSourceResponse.Failed(ContextSourceFailure.TooLarge, "the context source's answer is larger than Kontext:Federation:MaxResponseBytes");
                var headers = response.Headers.Concat(response.Content.Headers)
                    .SelectMany(h => h.Value.Select(v => new KeyValuePair<string, string>(h.Key, v))).ToList();
                return new ContextSourceResponse((int)response.StatusCode, response.Content.Headers.ContentType?.ToString(), body, headers);
            }, cancellationToken);
        }
        catch (TimeoutRejectedException)
        {
            return ContextSourceResponse.Failed(ContextSourceFailure.Timeout, $"the context source did not answer within {timeout.TotalMilliseconds:0} ms");
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && OutboundRefusedException.In(ex) is not null)
        {
            return ContextSourceResponse.Failed(ContextSourceFailure.Refused, "the broker's outbound policy does not permit the context source's endpoint (Kontext:Outbound)");
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is HttpRequestException or IOException or TimeoutException)
        {
            // Logged when the source starts failing, not on every request while it stays down (nor while it cools down).
            var level = line.Failed() ? LogLevel.Information : LogLevel.Debug;
            logger.Log(level, "Context source {Registration} could not be reached: {Reason} ({Error}; {Inner})", registration.Id, ex.Message,
                (ex as HttpRequestException)?.HttpRequestError, ex.InnerException?.Message);
            return ContextSourceResponse.Failed(ContextSourceFailure.Unreachable, "the context source could not be reached") with
                { NotConnected = ex is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError } };
        }
    }

    /// <summary>
    /// Sends the request, and once more on a connection of its own when nothing came back and sending it again is safe:
    /// <list type="bullet">
    /// <item>a connection that could not be opened (nothing was sent, so even a write cannot happen twice): a source that
    /// refuses one of several connections opened at once still gets the request;</item>
    /// <item>an answer that ended before its headers (closed, reset) when the request is repeatable (<see cref="IsRepeatable"/>):
    /// the request may have reached the source, so a write that is not idempotent is not sent again. Not after a timeout
    /// (the pipeline's, which cancels <paramref name="token"/>) nor after any answer.</item>
    /// </list>
    /// </summary>
    private async Task<HttpResponseMessage> ConnectAsync(string authority, Registration registration, ContextSourceRequest request, string? tenant, CancellationToken token)
    {
        var client = closingPeers.ClientFor(clients, HttpClientName, authority);
        HttpResponseMessage response;
        try
        {
            using var first = Message(registration, request, tenant);
            response = await client.SendAsync(first, HttpCompletionOption.ResponseHeadersRead, token);
        }
        catch (HttpRequestException ex) when (ex.HttpRequestError == HttpRequestError.ConnectionError && !token.IsCancellationRequested)
        {
            logger.LogDebug("Context source {Registration}: connection failed ({Reason}), trying once more", registration.Id, ex.Message);
            await Task.Delay(ConnectRetryDelay, token);
            response = await SendAgainAsync();
        }
        catch (HttpRequestException ex) when (EndedBeforeAnswer(ex) && IsRepeatable(request) && !token.IsCancellationRequested)
        {
            logger.LogDebug("Context source {Registration}: the answer ended before its headers ({Reason}), sending once more", registration.Id, ex.Message);
            response = await SendAgainAsync();
        }
        closingPeers.Observe(authority, response);
        return response;

        async Task<HttpResponseMessage> SendAgainAsync()
        {
            using var second = Message(registration, request, tenant);
            return await clients.CreateClient(ClosingPeers.Fresh(HttpClientName)).SendAsync(second, HttpCompletionOption.ResponseHeadersRead, token);
        }
    }

    private static readonly TimeSpan ConnectRetryDelay = TimeSpan.FromMilliseconds(50);

    /// <summary>The connection ended (closed, reset) before the answer's headers: no answer at all, not a timeout.</summary>
    private static bool EndedBeforeAnswer(HttpRequestException ex) =>
        ex.HttpRequestError == HttpRequestError.ResponseEnded
        || (ex.HttpRequestError == HttpRequestError.Unknown && ex.InnerException is IOException or System.Net.Sockets.SocketException);

    /// <summary>
    /// Whether a request that may have reached the source can be sent again. GET, HEAD and OPTIONS are safe, PUT and DELETE
    /// idempotent (RFC 9110 clause 9.2): a second replace or delete leaves the source as the first did (a repeated delete may
    /// answer 404, reported as that source's error). The query POSTs (entityOperations/query, temporal too) only read.
    /// Not repeated: PATCH (an update or merge sent twice notifies twice and adds attribute instances to the source's
    /// history twice; RFC 5789 calls PATCH not idempotent), the batch POSTs (a create sent twice reports AlreadyExists for
    /// what it created, a delete NotFound for what it deleted) and subscription POSTs (two remote subscriptions).
    /// </summary>
    internal static bool IsRepeatable(ContextSourceRequest request)
    {
        var method = request.Method;
        if (method == HttpMethod.Get || method == HttpMethod.Head || method == HttpMethod.Options || method == HttpMethod.Put || method == HttpMethod.Delete)
            return true;
        if (method != HttpMethod.Post) return false;
        var path = request.Resource.AsSpan();
        if (path.IndexOf('?') is var query and >= 0) path = path[..query];
        path = path.Trim('/');
        return path.SequenceEqual("entityOperations/query") || path.SequenceEqual("temporal/entityOperations/query");
    }

    private HttpRequestMessage Message(Registration registration, ContextSourceRequest request, string? tenant)
    {
        var message = new HttpRequestMessage(request.Method, Target(registration.Endpoint, request.Resource));
        var contextUrl = request.ContextUrl ?? kontext.Value.Contexts.CoreContextUrl;
        var accept = request.Accept;
        var contentType = request.ContentType;
        foreach (var (key, configured) in registration.ContextSourceInfo)
        {
            // Clause 4.3.6.5: urn:ngsi-ld:request takes the value from the triggering request's header of that name, if present.
            var value = configured == RequestValue ? request.Triggering?[key].ToString() : configured;
            if (string.IsNullOrEmpty(value)) continue;
            // Clause 4.3.6.6: jsonldContext, contentType and accept steer how the request is sent, they are not headers.
            if (key == "jsonldContext") contextUrl = value;
            else if (key == "accept") accept = value;
            else if (key == "contentType" && value is "application/json" or "application/ld+json") contentType = value;
            else if (!NotificationEndpoint.IsForbiddenHeader(key) && !IsBrokerHeader(key)) message.Headers.TryAddWithoutValidation(key, value);
        }
        // A registered jsonldContext is named in a Link header, so the body goes as JSON whatever contentType says.
        if (registration.ContextSourceInfo.Any(p => p.Key == "jsonldContext")) contentType = "application/json";
        message.Headers.TryAddWithoutValidation("Accept", accept);
        request = request with { Body = request.Body is null ? null : WithContext(request.Body, contentType == "application/ld+json" ? contextUrl : null), ContentType = contentType };
        if (request.ContentType != "application/ld+json")
            message.Headers.TryAddWithoutValidation("Link", $"<{HeaderIri.Uri(contextUrl)}>; rel=\"{NgsiRequest.JsonLdContextRel}\"; type=\"application/ld+json\"");
        if (registration.Tenant is { } sourceTenant) message.Headers.TryAddWithoutValidation(NgsiRequest.TenantHeader, sourceTenant);
        var via = $"1.1 {identity.Alias(tenant)}";
        message.Headers.TryAddWithoutValidation("Via", string.IsNullOrWhiteSpace(request.Via) ? via : request.Via + ", " + via);
        if (request.Body is not null)
        {
            message.Content = new StringContent(request.Body, Encoding.UTF8);
            message.Content.Headers.ContentType = new MediaTypeHeaderValue(request.ContentType);
        }
        return message;
    }

    private const string RequestValue = "urn:ngsi-ld:request";

    /// <summary>
    /// The body with the @context as the content type needs it: inline in every entity for application/ld+json
    /// (<paramref name="contextUrl"/>, unless the entity carries one), absent for application/json (the Link header carries it).
    /// </summary>
    private static string WithContext(string body, string? contextUrl)
    {
        System.Text.Json.Nodes.JsonNode? parsed;
        try { parsed = System.Text.Json.Nodes.JsonNode.Parse(body); }
        catch (System.Text.Json.JsonException) { return body; }
        var entities = parsed switch
        {
            System.Text.Json.Nodes.JsonObject one => [one],
            System.Text.Json.Nodes.JsonArray many => many.OfType<System.Text.Json.Nodes.JsonObject>().ToList(),
            _ => new List<System.Text.Json.Nodes.JsonObject>(),
        };
        foreach (var entity in entities)
        {
            if (contextUrl is null) entity.Remove("@context");
            else if (!entity.ContainsKey("@context")) entity["@context"] = contextUrl;
        }
        return parsed!.ToJsonString();
    }

    /// <summary>Headers the broker sets itself: contextSourceInfo cannot override them.</summary>
    private static bool IsBrokerHeader(string key) =>
        key.Equals("Link", StringComparison.OrdinalIgnoreCase) || key.Equals("Via", StringComparison.OrdinalIgnoreCase)
        || key.Equals(NgsiRequest.TenantHeader, StringComparison.OrdinalIgnoreCase) || key.Equals("Accept", StringComparison.OrdinalIgnoreCase)
        || key.Equals("Content-Type", StringComparison.OrdinalIgnoreCase);

    /// <summary>The source's NGSI-LD root is its endpoint, with /ngsi-ld/v1 added unless the endpoint already ends with it.</summary>
    public static Uri Target(Uri endpoint, string resource)
    {
        var root = endpoint.GetLeftPart(UriPartial.Path).TrimEnd('/');
        if (!root.EndsWith(ApiRoot, StringComparison.Ordinal)) root += ApiRoot;
        return new Uri(root + "/" + resource.TrimStart('/'));
    }

    /// <summary>The body, or null when it is larger than Kontext:Federation:MaxResponseBytes (checked while reading).</summary>
    private async Task<byte[]?> ReadCappedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var max = federation.Value.MaxResponseBytes;
        if (response.Content.Headers.ContentLength > max) return null;
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > max) return null;
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }
}
