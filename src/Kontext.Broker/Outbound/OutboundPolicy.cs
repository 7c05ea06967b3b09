using System.Net;
using System.Net.Sockets;
using Kontext.Broker.Hosting;
using Microsoft.Extensions.Options;

namespace Kontext.Broker.Outbound;

/// <summary>
/// The one gate for every connection the broker opens on a user's behalf (D12): remote @context fetches, HTTP and MQTT
/// notifications, and federation's forwarding. <see cref="ConnectAsync"/> resolves the host, checks every address it
/// resolves to with <see cref="OutboundRules"/>, and connects to a checked address, so no second DNS answer can slip in
/// between check and use. HTTP clients get it through <see cref="CreateHttpHandler"/> (each new connection, so each
/// redirect hop, passes the gate); MQTT through a stream provider. Connections the operator configures (the database,
/// MQTT ingest) do not go through it.
/// </summary>
public sealed class OutboundPolicy(IOptions<KontextOptions> options, ILogger<OutboundPolicy> logger)
{
    private readonly OutboundRules _rules = new(options.Value.Outbound);
    private readonly TimeSpan _connectTimeout = options.Value.Outbound.ConnectTimeout;
    private long _refusals;

    public OutboundRules Rules => _rules;

    /// <summary>Connections refused since start (for operators, and for tests that must see the gate act).</summary>
    public long Refusals => Interlocked.Read(ref _refusals);

    /// <summary>
    /// The check that needs no DNS, for validating a URL when it is given (a subscription endpoint): refuses a literal
    /// address the rules refuse and a host name on the Deny list. Null when permitted or only known once resolved.
    /// </summary>
    public string? Precheck(Uri uri)
    {
        var host = OutboundRules.NormalizeHost(uri.IdnHost);
        if (host is null) return "the URL names no host";
        return IPAddress.TryParse(host, out var address) ? _rules.Judge(null, address) : _rules.JudgeName(host);
    }

    /// <summary>Resolves <paramref name="host"/> and checks every address; refuses all if any one is refused.</summary>
    /// <exception cref="OutboundRefusedException">The policy does not permit the host or one of its addresses.</exception>
    public async Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        var name = OutboundRules.NormalizeHost(host) ?? throw Refuse(host, "no host");
        if (IPAddress.TryParse(name, out var literal))
        {
            if (_rules.Judge(null, literal) is { } reason) throw Refuse(host, reason);
            return [literal];
        }
        if (_rules.JudgeName(name) is { } denied) throw Refuse(host, denied);
        var addresses = await Dns.GetHostAddressesAsync(name, cancellationToken);
        if (addresses.Length == 0) throw new SocketException((int)SocketError.HostNotFound);
        foreach (var address in addresses)
            if (_rules.Judge(name, address) is { } reason) throw Refuse(host, reason);
        return addresses;
    }

    /// <summary>Opens a TCP connection to <paramref name="host"/>:<paramref name="port"/> through the policy.</summary>
    /// <exception cref="OutboundRefusedException">The policy does not permit the host or one of its addresses.</exception>
    public async Task<Stream> ConnectAsync(string host, int port, CancellationToken cancellationToken)
    {
        var addresses = await ResolveAsync(host, cancellationToken);
        Exception? last = null;
        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(_connectTimeout);
                await socket.ConnectAsync(new IPEndPoint(address, port), timeout.Token);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                socket.Dispose();
                last = ex is OperationCanceledException ? new TimeoutException($"connecting to {address}:{port} timed out") : ex;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        throw last ?? new SocketException((int)SocketError.HostNotFound);
    }

    /// <summary>
    /// A handler whose every connection goes through <see cref="ConnectAsync"/>. It follows no redirects (a caller that
    /// wants them follows them itself, with a hop cap) and uses no proxy: a proxy would connect to the target for us,
    /// past the check. A call made on a request's behalf carries the caller's trace context (<see cref="CallerTrace"/>).
    /// <paramref name="keepConnections"/> false: every request opens its own connection, none is kept for the next one
    /// (for a peer that closes the connection after each answer, see <see cref="ClosingPeers"/>).
    /// </summary>
    public HttpMessageHandler CreateHttpHandler(bool keepConnections = true) => new CallerTraceHandler(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        PooledConnectionIdleTimeout = keepConnections ? TimeSpan.FromMinutes(1) : TimeSpan.Zero,
        ConnectCallback = async (context, token) => await ConnectAsync(context.DnsEndPoint.Host, context.DnsEndPoint.Port, token),
    });

    private OutboundRefusedException Refuse(string host, string reason)
    {
        Interlocked.Increment(ref _refusals);
        logger.LogWarning("Outbound connection to {Host} refused: {Reason}", host, reason);
        return new OutboundRefusedException(host, reason);
    }
}

/// <summary>The outbound policy refused a connection. The message names the address: for logs, not for API answers.</summary>
public sealed class OutboundRefusedException(string host, string reason)
    : Exception($"The outbound policy refuses {host}: {reason}")
{
    public string Host { get; } = host;
    public string Reason { get; } = reason;

    /// <summary>The refusal somewhere in an exception chain (HttpClient and MQTTnet wrap what a connect callback throws).</summary>
    public static OutboundRefusedException? In(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is OutboundRefusedException refused) return refused;
            if (e is AggregateException aggregate && aggregate.InnerExceptions.Select(In).FirstOrDefault(r => r is not null) is { } inner) return inner;
        }
        return null;
    }
}
