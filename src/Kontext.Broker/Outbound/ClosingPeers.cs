using System.Collections.Concurrent;

namespace Kontext.Broker.Outbound;

/// <summary>
/// Peers (scheme, host and port) that close the connection after each answer without saying so, and the outbound
/// clients that keep no connection for them. SocketsHttpHandler pools the connection of an HTTP/1.0 answer that has no
/// "Connection: close" although the server closes it (HTTP/1.0's default, e.g. Python's http.server), and hands it to the
/// next request, often before the server's close has arrived: a request with a body then fails with ResponseEnded without
/// having reached the peer (the handler resends only requests without a body itself). Every outbound client that sends
/// bodies (forwards to context sources, notifications) is registered twice, pooled and fresh, and picks by its peer here.
/// </summary>
public sealed class ClosingPeers
{
    /// <summary>Bounds what is remembered: past it the set is dropped, which costs a peer one more pooled attempt.</summary>
    private const int MaxRemembered = 10_000;

    private readonly ConcurrentDictionary<string, bool> _peers = new();

    /// <summary>What shares a connection pool: scheme, host and port.</summary>
    public static string Peer(Uri endpoint) => endpoint.GetLeftPart(UriPartial.Authority);

    /// <summary>The name of <paramref name="name"/>'s client that keeps no connection (see <see cref="AddOutboundClient"/>).</summary>
    public static string Fresh(string name) => name + "-fresh";

    /// <summary>The client of <paramref name="name"/> to use for <paramref name="peer"/>: the fresh one once it was seen closing.</summary>
    public HttpClient ClientFor(IHttpClientFactory clients, string name, string peer) =>
        clients.CreateClient(_peers.ContainsKey(peer) ? Fresh(name) : name);

    /// <summary>Notes <paramref name="peer"/> as closing when <paramref name="response"/> is HTTP/1.0 without keep-alive (RFC 1945).</summary>
    public void Observe(string peer, HttpResponseMessage response)
    {
        if (response.Version != System.Net.HttpVersion.Version10 || response.Headers.Connection.Contains("keep-alive", StringComparer.OrdinalIgnoreCase))
            return;
        // Count takes every lock of the dictionary: only asked when a peer is new.
        if (_peers.TryAdd(peer, true) && _peers.Count > MaxRemembered) _peers.Clear();
    }

    /// <summary>
    /// Registers the named client <paramref name="name"/> and its fresh twin, both connecting through the outbound policy
    /// (D12), without a client timeout (callers time their own requests).
    /// </summary>
    public static void AddOutboundClient(IServiceCollection services, string name)
    {
        services.AddHttpClient(name, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(sp => sp.GetRequiredService<OutboundPolicy>().CreateHttpHandler());
        services.AddHttpClient(Fresh(name), client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(sp => sp.GetRequiredService<OutboundPolicy>().CreateHttpHandler(keepConnections: false));
    }
}
