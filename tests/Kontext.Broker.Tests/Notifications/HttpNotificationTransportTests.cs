using Kontext.Broker.Notifications;
using Kontext.Broker.Outbound;
using Kontext.Broker.Tests.ContextSources;
using Kontext.Broker.Tests.Infrastructure;
using Kontext.Ngsi.Notifications;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Kontext.Broker.Tests.Notifications;

/// <summary>The HTTP notification client against receivers on 127.0.0.1 that a test scripts connection by connection.</summary>
public sealed class HttpNotificationTransportTests(BrokerFixture fx) : IClassFixture<BrokerFixture>
{
    /// <summary>No quick retries: a delivery that went into a dead connection would fail instead of being hidden by a retry.</summary>
    private HttpNotificationTransport Transport(ClosingPeers peers) => new(fx.Factory.Services.GetRequiredService<IHttpClientFactory>(),
        Options.Create(new NotificationOptions { ImmediateRetries = 0 }), peers);

    private static NotificationRequest Notification(int n) =>
        new("application/json", [], $$"""{"id":"urn:ngsi-ld:Notification:{{n}}","type":"Notification","data":[]}""");

    [Fact]
    public async Task A_receiver_that_closes_its_connection_after_each_HTTP_1_0_answer_gets_every_notification_on_a_connection_of_its_own()
    {
        // As Python's http.server answers: HTTP/1.0 without a Connection header, the connection closed a moment later.
        using var receiver = RawContextSource.Start(_ => RawContextSource.Reply.AnswerAsHttp10ThenClose);
        var transport = Transport(new ClosingPeers());
        var endpoint = new Uri(receiver.BaseUrl + "/notify");

        var delivered = new List<bool>();
        for (var n = 0; n < 3; n++) delivered.Add(await transport.DeliverAsync(endpoint, Notification(n), () => true, default));

        delivered.Should().Equal(true, true, true);
        receiver.Requests.Should().Equal("POST /notify", "POST /notify", "POST /notify");
        receiver.Connections.Should().Be(3, "no notification is sent into the connection the receiver is about to close");
    }

    [Fact]
    public async Task A_keep_alive_receiver_keeps_one_connection_for_its_notifications()
    {
        using var receiver = RawContextSource.Start(_ => RawContextSource.Reply.AnswerKeepingConnection);
        var transport = Transport(new ClosingPeers());
        var endpoint = new Uri(receiver.BaseUrl + "/notify");

        for (var n = 0; n < 3; n++) (await transport.DeliverAsync(endpoint, Notification(n), () => true, default)).Should().BeTrue();

        receiver.Requests.Should().HaveCount(3);
        receiver.Connections.Should().Be(1, "an HTTP/1.1 receiver's connection is pooled and reused");
    }
}
