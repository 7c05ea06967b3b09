using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace Kontext.Broker.Tests.Infrastructure;

/// <summary>
/// An MQTTnet server on 127.0.0.1 only (no IPv6 listener) with a subscribing test client that records every message
/// on its topic filter. Optionally requires a user name and password from every client. The server also records
/// the connections it saw and the QoS of what the broker published.
/// </summary>
public sealed class MqttTestBroker : IAsyncDisposable
{
    private readonly MqttServer _server;
    private readonly string? _user, _password;
    private readonly ConcurrentQueue<ReceivedMqttMessage> _received = new();
    private readonly SemaphoreSlim _arrived = new(0);
    private IMqttClient? _subscriber;

    private MqttTestBroker(int port, string? user, string? password)
    {
        Port = port;
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
            Published.Enqueue((e.ClientId, e.ApplicationMessage.Topic, e.ApplicationMessage.QualityOfServiceLevel));
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

    /// <summary>Starts the server on <paramref name="port"/> (a free one if null) and subscribes the test client to <paramref name="topicFilter"/>.</summary>
    public static async Task<MqttTestBroker> StartAsync(string topicFilter = "#", int? port = null, string? user = null, string? password = null)
    {
        var broker = new MqttTestBroker(port ?? NotificationReceiver.FreePort(), user, password);
        await broker._server.StartAsync();
        var subscriber = new MqttClientFactory().CreateMqttClient();
        subscriber.ApplicationMessageReceivedAsync += e =>
        {
            var payload = JsonNode.Parse(e.ApplicationMessage.ConvertPayloadToString())!.AsObject();
            broker._received.Enqueue(new ReceivedMqttMessage(e.ApplicationMessage.Topic, payload, e.ApplicationMessage.QualityOfServiceLevel));
            broker._arrived.Release();
            return Task.CompletedTask;
        };
        var options = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", broker.Port).WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId("test-subscriber-" + Guid.NewGuid().ToString("N")[..6]).WithCleanSession();
        if (user is not null) options.WithCredentials(user, password);
        await subscriber.ConnectAsync(options.Build());
        await subscriber.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter(f => f.WithTopic(topicFilter).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.ExactlyOnce)).Build());
        broker._subscriber = subscriber;
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
        if (_subscriber is not null)
        {
            try { await _subscriber.DisconnectAsync(); } catch (Exception) { }
            _subscriber.Dispose();
        }
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
