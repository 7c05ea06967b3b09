using System.Buffers;
using System.Collections.Concurrent;
using System.Text.Json;
using Kontext.Ngsi.Notifications;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace Kontext.Broker.Notifications;

/// <summary>
/// MQTT notification binding (clause 7): publishes <c>{"metadata": {...headers}, "body": Notification}</c> to the broker
/// named by an <c>mqtt://</c> or <c>mqtts://</c> endpoint, on the topic taken from the URI path, with the QoS and
/// protocol version of the endpoint's notifierInfo (MQTT-QoS 0/1/2, default 0; MQTT-Version mqtt3.1.1 or mqtt5.0,
/// default mqtt3.1.1). One client per broker, credentials, TLS and version is kept connected and shared; a broken
/// connection is dropped and made again on the next attempt, so the dispatcher's retries also reconnect.
/// <para>
/// mqtts: TLS with the platform's usual server-certificate validation (system trust store, host name check); there is
/// no certificate pinning and no client certificate.
/// </para>
/// <para>Connections go through the outbound policy (<see cref="PolicyStreamProvider"/>).</para>
/// </summary>
internal sealed class MqttNotificationTransport(IOptions<NotificationOptions> options, Outbound.OutboundPolicy policy, ILogger<MqttNotificationTransport> logger)
    : INotificationTransport, IAsyncDisposable
{
    private readonly PolicyStreamProvider _streams = new(policy);
    private readonly ConcurrentDictionary<MqttConnectionKey, MqttConnection> _connections = new();
    private readonly MqttClientFactory _factory = new();
    private volatile bool _disposed;

    public bool CanDeliver(Uri endpoint) => endpoint.Scheme is "mqtt" or "mqtts";

    public async Task<bool> DeliverAsync(Uri endpoint, NotificationRequest request, Func<bool> stillWanted, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var target = MqttEndpoint.Parse(endpoint, request.NotifierInfo);
        var builder = new MqttApplicationMessageBuilder()
            .WithTopic(target.Topic)
            .WithPayload(Envelope(request))
            .WithQualityOfServiceLevel(target.QoS);
        if (target.Connection.Version == MqttProtocolVersion.V500)
            builder.WithContentType("application/json").WithPayloadFormatIndicator(MqttPayloadFormatIndicator.CharacterData);
        var message = builder.Build();

        var connection = _connections.GetOrAdd(target.Connection, key => new MqttConnection(key, _factory, _streams, logger));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.Timeout);
        try
        {
            var result = await connection.PublishAsync(message, options.Value.Timeout, timeout.Token);
            if (result.ReasonCode is MqttClientPublishReasonCode.Success or MqttClientPublishReasonCode.NoMatchingSubscribers) return true;
            logger.LogInformation("MQTT broker {Broker} refused the notification on {Topic}: {Reason} {Text}",
                target.Connection, target.Topic, result.ReasonCode, result.ReasonString);
            return false;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await connection.ResetAsync();
            throw new TimeoutException($"no answer from the MQTT broker {target.Connection} within {options.Value.Timeout.TotalSeconds:0.#} s");
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            await connection.ResetAsync();
            throw;
        }
    }

    /// <summary>The MQTT message (clause 7.2): the HTTP headers as "metadata" key/values, the notification as "body".</summary>
    internal static byte[] Envelope(NotificationRequest request)
    {
        var buffer = new ArrayBufferWriter<byte>(request.Body.Length + 512);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("metadata");
            writer.WriteString("Content-Type", request.ContentType);
            foreach (var (key, value) in request.Headers)
            {
                if (!key.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)) writer.WriteString(key, value);
            }
            writer.WriteEndObject();
            writer.WritePropertyName("body");
            var body = request.BodyNode();
            if (body is null) writer.WriteNullValue();
            else body.WriteTo(writer);
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        await Task.WhenAll(_connections.Values.Select(c => c.DisposeAsync().AsTask()));
        _connections.Clear();
    }
}

/// <summary>One shared client to one MQTT broker; connects on first use and after a failure.</summary>
internal sealed class MqttConnection(MqttConnectionKey key, MqttClientFactory factory, MQTTnet.Channel.IMqttClientStreamProvider streams, ILogger logger) : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IMqttClient? _client;
    private bool _disposed;

    public async Task<MqttClientPublishResult> PublishAsync(MqttApplicationMessage message, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var client = await ConnectedClientAsync(timeout, cancellationToken);
        return await client.PublishAsync(message, cancellationToken);
    }

    private async Task<IMqttClient> ConnectedClientAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (_client is { IsConnected: true } ready) return ready;
        await _gate.WaitAsync(cancellationToken);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_client is { IsConnected: true } connected) return connected;
            if (_client is not null) DisposeClient(_client);
            _client = null;
            var builder = new MqttClientOptionsBuilder()
                .WithTcpServer(key.Host, key.Port)
                .WithStreamProvider(streams) // the connection goes through the outbound policy
                .WithProtocolVersion(key.Version)
                .WithClientId("kontext-" + Guid.NewGuid().ToString("N")[..15]) // 23 characters: the MQTT 3.1.1 guaranteed maximum
                .WithCleanSession()
                .WithKeepAlivePeriod(TimeSpan.FromSeconds(30))
                .WithTimeout(timeout);
            if (key.User is not null) builder.WithCredentials(key.User, key.Password);
            if (key.Tls) builder.WithTlsOptions(tls => tls.UseTls().WithTargetHost(key.Host));
            var client = factory.CreateMqttClient();
            try
            {
                await client.ConnectAsync(builder.Build(), cancellationToken);
            }
            catch
            {
                DisposeClient(client);
                throw;
            }
            logger.LogInformation("Connected to MQTT broker {Broker} for notifications", key);
            _client = client;
            return client;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Drops the client after a failure, so the next attempt connects afresh.</summary>
    public async Task ResetAsync()
    {
        await _gate.WaitAsync();
        try
        {
            if (_client is null) return;
            DisposeClient(_client);
            _client = null;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync();
        try
        {
            _disposed = true;
            if (_client is null) return;
            if (_client.IsConnected)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                try { await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().WithReason(MqttClientDisconnectOptionsReason.NormalDisconnection).Build(), timeout.Token); }
                catch (Exception ex) { logger.LogDebug(ex, "Disconnecting from MQTT broker {Broker} failed", key); }
            }
            DisposeClient(_client);
            _client = null;
        }
        finally
        {
            _gate.Release();
        }
    }

    private void DisposeClient(IMqttClient client)
    {
        try { client.Dispose(); }
        catch (Exception ex) { logger.LogDebug(ex, "Disposing the MQTT client for {Broker} failed", key); }
    }
}
