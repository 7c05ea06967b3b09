using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace Kontext.Broker.Tests.Infrastructure;

/// <summary>
/// An MQTTnet server on 127.0.0.1 only (no IPv6 listener) that records, as the server accepts them, every message
/// published on its topic filter. Recording at the server rather than through a subscribing client matters: a client
/// that connects the moment the server starts (a retrying notifier) could otherwise publish before the subscriber has
/// subscribed, and the message would be lost to the test. Optionally requires a user name and password from every
/// client. The server also records the connections it saw and the QoS of everything published.
/// </summary>
public sealed class MqttTestBroker : IAsyncDisposable
{
    private readonly MqttServer _server;
    private readonly string? _user, _password;
    private readonly string _topicFilter;
    private readonly ConcurrentQueue<ReceivedMqttMessage> _received = new();
    private readonly SemaphoreSlim _arrived = new(0);

    private MqttTestBroker(int port, string topicFilter, string? user, string? password)
    {
        Port = port;
        _topicFilter = topicFilter;
        _user = user;
        _password = password;
        var options = new MqttServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointBoundIPAddress(IPAddress.Loopback)
            .WithDefaultEndpointBoundIPV6Address(IPAddress.None)
            .WithDefaultEndpointPort(port)
            .Build();
        _server = new MqttServerFactory().CreateMqttServer(options);
        _server.ValidatingConnectionAsync += e =>
        {
            var accepted = _user is null || (e.UserName == _user && e.Password == _password);
            Connections.Enqueue(new MqttConnectionAttempt(e.ClientId, e.ProtocolVersion, e.UserName, e.Password, accepted));
            if (!accepted) e.ReasonCode = MqttConnectReasonCode.BadUserNameOrPassword;
            return Task.CompletedTask;
        };
        _server.InterceptingPublishAsync += e =>
        {
            var message = e.ApplicationMessage;
            Published.Enqueue((e.ClientId, message.Topic, message.QualityOfServiceLevel));
            if (MqttTopicFilterComparer.Compare(message.Topic, _topicFilter) == MqttTopicFilterCompareResult.IsMatch)
            {
                var payload = JsonNode.Parse(message.ConvertPayloadToString())!.AsObject();
                _received.Enqueue(new ReceivedMqttMessage(message.Topic, payload, message.QualityOfServiceLevel));
                _arrived.Release();
            }
            return Task.CompletedTask;
        };
    }

    public int Port { get; }
    public ConcurrentQueue<MqttConnectionAttempt> Connections { get; } = new();
    public ConcurrentQueue<(string ClientId, string Topic, MqttQualityOfServiceLevel QoS)> Published { get; } = new();
    public IReadOnlyList<ReceivedMqttMessage> Received => _received.ToList();

    /// <summary>The notification endpoint for <paramref name="topic"/> on this server.</summary>
    public string Url(string topic, string? user = null, string? password = null) =>
        $"mqtt://{(user is null ? "" : Uri.EscapeDataString(user) + (password is null ? "" : ":" + Uri.EscapeDataString(password)) + "@")}127.0.0.1:{Port}/{topic}";

    /// <summary>Starts the server on <paramref name="port"/> (a free one if null), recording what is published on <paramref name="topicFilter"/>.</summary>
    public static async Task<MqttTestBroker> StartAsync(string topicFilter = "#", int? port = null, string? user = null, string? password = null)
    {
        var broker = new MqttTestBroker(port ?? NotificationReceiver.FreePort(), topicFilter, user, password);
        await broker._server.StartAsync();
        return broker;
    }

    /// <summary>Waits until at least <paramref name="count"/> messages arrived (bounded by <paramref name="timeout"/>).</summary>
    public async Task<IReadOnlyList<ReceivedMqttMessage>> WaitForAsync(int count, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (_received.Count < count && DateTime.UtcNow < deadline)
            await _arrived.WaitAsync(TimeSpan.FromMilliseconds(100));
        return Received;
    }

    public async ValueTask DisposeAsync()
    {
        await _server.StopAsync();
        _server.Dispose();
    }
}

public sealed record MqttConnectionAttempt(string ClientId, MqttProtocolVersion Version, string? UserName, string? Password, bool Accepted);

public sealed record ReceivedMqttMessage(string Topic, JsonObject Payload, MqttQualityOfServiceLevel QoS)
{
    public JsonObject Metadata => Payload["metadata"]!.AsObject();
    public JsonObject Body => Payload["body"]!.AsObject();
    public JsonObject Entity => Body["data"]![0]!.AsObject();
}
