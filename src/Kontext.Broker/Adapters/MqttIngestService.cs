using Kontext.Adapters;
using Kontext.Broker.Hosting;
using Microsoft.Extensions.Options;
using MQTTnet;

namespace Kontext.Broker.Adapters;

/// <summary>
/// MQTT ingest (MQTTnet), on when Kontext:Adapters:Mqtt:Host is set: subscribes to the network server's uplink topics
/// and feeds each message to the same pipeline as the webhooks. The envelope kind follows the topic: v3/{app}/devices/{dev}/up
/// is The Things Stack, application/{app}/device/{eui}/event/up is ChirpStack. The MQTT credentials authenticate the
/// connection; the configured source gives tenant, size limit and rate. Reconnects with back-off.
/// </summary>
public sealed class MqttIngestService(IOptions<AdapterOptions> options, AdapterIngest ingest, SourceGuard guard, ILogger<MqttIngestService> logger)
    : BackgroundService
{
    /// <summary>Messages handed to the pipeline so far (tests and health).</summary>
    public long Received => Interlocked.Read(ref _received);
    private long _received;

    public static string? KindOf(string topic)
    {
        var parts = topic.Split('/');
        if (parts.Length >= 5 && parts[0] == "v3" && parts[2] == "devices" && parts[^1] == "up") return "tts";
        if (parts.Length >= 6 && parts[0] == "application" && parts[2] == "device" && parts[^2] == "event" && parts[^1] == "up") return "chirpstack";
        return null;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value.Mqtt;
        if (string.IsNullOrEmpty(settings.Host) || settings.Topics.Count == 0) return;
        var factory = new MqttClientFactory();
        using var client = factory.CreateMqttClient();
        client.ApplicationMessageReceivedAsync += OnMessageAsync;
        var builder = new MqttClientOptionsBuilder().WithTcpServer(settings.Host, settings.Port).WithClientId(settings.ClientId).WithCleanSession();
        if (settings.Username is not null) builder = builder.WithCredentials(settings.Username, settings.Password);
        var clientOptions = builder.Build();
        var delay = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!client.IsConnected)
                {
                    await client.ConnectAsync(clientOptions, stoppingToken);
                    var subscribe = factory.CreateSubscribeOptionsBuilder();
                    foreach (var topic in settings.Topics) subscribe = subscribe.WithTopicFilter(topic);
                    var subscribed = await client.SubscribeAsync(subscribe.Build(), stoppingToken);
                    // A refused filter (e.g. the credentials have no rights on that application) comes back in SUBACK, not as an exception.
                    var refused = subscribed.Items.Where(i => (int)i.ResultCode >= 0x80).ToList();
                    foreach (var item in refused)
                        logger.LogWarning("MQTT ingest: {Host}:{Port} refused the subscription to {Topic} ({Code})", settings.Host, settings.Port, item.TopicFilter.Topic, item.ResultCode);
                    if (refused.Count > 0 && refused.Count == subscribed.Items.Count)
                    {
                        try { await client.DisconnectAsync(new MqttClientDisconnectOptions(), stoppingToken); } catch (Exception ex) when (ex is not OperationCanceledException) { }
                        throw new InvalidOperationException("every topic subscription was refused");
                    }
                    logger.LogInformation("MQTT ingest connected to {Host}:{Port}, topics {Topics}", settings.Host, settings.Port, string.Join(", ", settings.Topics));
                    delay = TimeSpan.FromSeconds(1);
                }
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                logger.LogWarning("MQTT ingest: connecting to {Host}:{Port} failed ({Error}); retrying in {Delay}", settings.Host, settings.Port, ex.Message, delay);
                try { await Task.Delay(delay, stoppingToken); } catch (OperationCanceledException) { break; }
                delay = TimeSpan.FromSeconds(Math.Min(60, delay.TotalSeconds * 2));
            }
        }
        if (client.IsConnected)
        {
            try { await client.DisconnectAsync(); } catch (Exception ex) { logger.LogDebug(ex, "MQTT disconnect failed"); }
        }
    }

    private async Task OnMessageAsync(MqttApplicationMessageReceivedEventArgs e)
    {
        var topic = e.ApplicationMessage.Topic;
        var kind = KindOf(topic);
        if (kind is null)
        {
            logger.LogDebug("MQTT ingest: topic {Topic} is not an uplink topic; ignored", topic);
            return;
        }
        var source = options.Value.Mqtt.Source;
        var settings = guard.Settings(source);
        try
        {
            if (e.ApplicationMessage.Payload.Length > settings.MaxPayloadBytes)
            {
                logger.LogWarning("MQTT ingest: message on {Topic} exceeds {Max} bytes; dropped", topic, settings.MaxPayloadBytes);
                return;
            }
            guard.Admit("mqtt:" + source, settings);
            var result = await ingest.IngestAsync(source, kind, settings.Tenant, e.ApplicationMessage.ConvertPayloadToString(), CancellationToken.None);
            Interlocked.Increment(ref _received);
            logger.LogDebug("MQTT ingest: {Topic} → {Status}", topic, result.Status);
        }
        catch (Exception ex)
        {
            Interlocked.Increment(ref _received);
            // Over HTTP the sender gets a 400 and keeps its message; over MQTT nobody would, so it is kept as a dead letter.
            logger.LogWarning("MQTT ingest: message on {Topic} rejected: {Error}; kept as a dead letter", topic, ex.Message);
            await ingest.KeepMalformedAsync(source, kind, settings.Tenant, e.ApplicationMessage.ConvertPayloadToString(), $"{ex.Message} (topic {topic})",
                CancellationToken.None);
        }
    }
}
