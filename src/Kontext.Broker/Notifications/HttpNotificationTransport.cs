using System.Net.Http.Headers;
using System.Text;
using Kontext.Ngsi.Notifications;
using Kontext.Ngsi.Subscriptions;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace Kontext.Broker.Notifications;

/// <summary>
/// POSTs the notification (clause 6.3.x notification behaviour) with a timeout and a few quick Polly retries. The client's
/// connections go through the outbound policy (a refusal is final, not retried); a redirect is not followed and counts
/// as a failed delivery. Connections are kept alive and reused (the outbound policy's pooled handler), except to a receiver
/// that closes them after each answer without saying so (<see cref="Outbound.ClosingPeers"/>).
/// </summary>
internal sealed class HttpNotificationTransport : INotificationTransport
{
    public const string HttpClientName = "notifications";
    private readonly IHttpClientFactory _clients;
    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline;
    private readonly NotificationOptions _options;
    private readonly Outbound.ClosingPeers _closingPeers;

    public HttpNotificationTransport(IHttpClientFactory clients, IOptions<NotificationOptions> options, Outbound.ClosingPeers closingPeers)
    {
        _clients = clients;
        _closingPeers = closingPeers;
        _options = options.Value;
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage>();
        if (_options.ImmediateRetries > 0) builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = _options.ImmediateRetries,
                BackoffType = DelayBackoffType.Exponential,
                Delay = TimeSpan.FromMilliseconds(100),
                ShouldHandle = new PredicateBuilder<HttpResponseMessage>()
                    // Not when no connection could be made (nobody listens): the dispatcher's backoff retries that, after
                    // checking that the notification is still wanted (its subscription may be gone by then).
                    .Handle<HttpRequestException>(ex => Outbound.OutboundRefusedException.In(ex) is null && ex.HttpRequestError != HttpRequestError.ConnectionError)
                    .Handle<TimeoutException>()
                    .HandleResult(r => (int)r.StatusCode >= 500 || r.StatusCode == System.Net.HttpStatusCode.TooManyRequests),
            });
        _pipeline = builder.Build();
    }

    public bool CanDeliver(Uri endpoint) => endpoint.Scheme is "http" or "https";

    public async Task<bool> DeliverAsync(Uri endpoint, NotificationRequest request, Func<bool> stillWanted, CancellationToken cancellationToken)
    {
        var peer = Outbound.ClosingPeers.Peer(endpoint);
        var client = _closingPeers.ClientFor(_clients, HttpClientName, peer);
        var tries = 0;
        using var response = await _pipeline.ExecuteAsync(async token =>
        {
            // A quick retry is a new send: not once the subscription is gone (the first try was on the wire before).
            if (tries++ > 0 && !stillWanted()) throw new DeliveryWithdrawnException();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
            timeout.CancelAfter(_options.Timeout);
            using var message = new HttpRequestMessage(HttpMethod.Post, endpoint)
            {
                Content = new StringContent(request.Body, Encoding.UTF8),
            };
            message.Content.Headers.ContentType = new MediaTypeHeaderValue(request.ContentType);
            foreach (var (key, value) in request.Headers)
            {
                if (NotificationEndpoint.IsForbiddenHeader(key)) continue; // a subscription stored before receiverInfo was checked
                if (!message.Headers.TryAddWithoutValidation(key, value)) message.Content.Headers.TryAddWithoutValidation(key, value);
            }
            try
            {
                var response = await client.SendAsync(message, timeout.Token);
                _closingPeers.Observe(peer, response);
                return response;
            }
            catch (OperationCanceledException) when (!token.IsCancellationRequested)
            {
                throw new TimeoutException($"no answer from {endpoint} within {_options.Timeout.TotalSeconds:0.#} s");
            }
        }, cancellationToken);
        return response.IsSuccessStatusCode;
    }
}
