using System.Net;
using Kontext.Broker.Outbound;
using MQTTnet.Channel;

namespace Kontext.Broker.Notifications;

/// <summary>
/// Opens MQTT connections through the outbound policy: the broker's host is resolved and checked, and the connection
/// goes to the checked address. MQTTnet layers TLS on top, still naming the host (SNI, certificate check).
/// </summary>
internal sealed class PolicyStreamProvider(OutboundPolicy policy) : IMqttClientStreamProvider
{
    public async Task<Stream> ConnectAsync(EndPoint brokerEndPoint, CancellationToken cancellationToken) => brokerEndPoint switch
    {
        DnsEndPoint dns => await policy.ConnectAsync(dns.Host, dns.Port, cancellationToken),
        IPEndPoint ip => await policy.ConnectAsync(ip.Address.ToString(), ip.Port, cancellationToken),
        _ => throw new NotSupportedException($"MQTT notifications go over TCP, not {brokerEndPoint.GetType().Name}"),
    };
}
