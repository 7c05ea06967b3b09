using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace Kontext.Broker.Notifications;

/// <summary>
/// An MQTT notification endpoint (clause 7.2): <c>mqtt[s]://[user[:pass]@]host[:port]/topic[/subtopic]*</c> with the
/// endpoint's notifierInfo options. The connection part (<see cref="Connection"/>) is what clients are shared by.
/// </summary>
internal sealed record MqttEndpoint(MqttConnectionKey Connection, string Topic, MqttQualityOfServiceLevel QoS)
{
    public const int DefaultPort = 1883;
    public const int DefaultTlsPort = 8883;
    public const string VersionKey = "MQTT-Version";
    public const string QoSKey = "MQTT-QoS";

    public static MqttEndpoint Parse(Uri uri, IReadOnlyList<KeyValuePair<string, string>> notifierInfo)
    {
        var tls = uri.Scheme switch
        {
            "mqtt" => false,
            "mqtts" => true,
            _ => throw new ArgumentException($"'{uri}' is not an mqtt or mqtts URI", nameof(uri)),
        };
        var port = uri.Port > 0 ? uri.Port : tls ? DefaultTlsPort : DefaultPort;
        string? user = null, password = null;
        if (uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':');
            user = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            password = colon < 0 ? null : Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
        }
        var topic = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (topic.Length == 0) throw new ArgumentException($"the MQTT endpoint '{uri}' names no topic");

        var version = MqttProtocolVersion.V311;
        var qos = MqttQualityOfServiceLevel.AtMostOnce;
        foreach (var (key, value) in notifierInfo)
        {
            if (key == VersionKey) version = value switch
            {
                "mqtt3.1.1" => MqttProtocolVersion.V311,
                "mqtt5.0" => MqttProtocolVersion.V500,
                _ => throw new ArgumentException($"{VersionKey} '{value}' is not one of mqtt3.1.1, mqtt5.0"),
            };
            else if (key == QoSKey) qos = value switch
            {
                "0" => MqttQualityOfServiceLevel.AtMostOnce,
                "1" => MqttQualityOfServiceLevel.AtLeastOnce,
                "2" => MqttQualityOfServiceLevel.ExactlyOnce,
                _ => throw new ArgumentException($"{QoSKey} '{value}' is not one of 0, 1, 2"),
            };
        }
        return new MqttEndpoint(new MqttConnectionKey(uri.IdnHost, port, tls, user, password, version), topic, qos);
    }
}

/// <summary>What one shared client connection is for: broker address, TLS, credentials and protocol version.</summary>
internal sealed record MqttConnectionKey(string Host, int Port, bool Tls, string? User, string? Password, MqttProtocolVersion Version)
{
    /// <summary>For logs: never the password.</summary>
    public override string ToString() => $"{(Tls ? "mqtts" : "mqtt")}://{(User is null ? "" : User + "@")}{Host}:{Port} ({Version})";
}
