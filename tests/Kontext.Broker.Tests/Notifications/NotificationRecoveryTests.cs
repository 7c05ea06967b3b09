using System.Net;
using Kontext.Broker.Tests.Infrastructure;
using Kontext.Broker.Tests.Subscriptions;

namespace Kontext.Broker.Tests.Notifications;

/// <summary>At-least-once delivery (D5): the receiver is down, the broker restarts, the receiver comes back — nothing is lost.</summary>
public sealed class NotificationRecoveryTests
{
    [Fact]
    public async Task Every_notification_arrives_after_receiver_outage_and_broker_restart()
    {
        var port = NotificationReceiver.FreePort(); // nothing listens here yet: deliveries fail
        var first = new BrokerFactory(settings: SubscriptionFixture.FastNotifications);
        try
        {
            using (var client = first.CreateClient())
            {
                var subscription = $$$$"""
                    {"type":"Subscription","entities":[{"type":"Meter"}],"notification":{"format":"keyValues","endpoint":{"uri":"http://127.0.0.1:{{{{port}}}}/notify"}}}
                    """;
                (await client.Send(HttpMethod.Post, "/ngsi-ld/v1/subscriptions", subscription)).StatusCode.Should().Be(HttpStatusCode.Created);
                await client.CreateOkAsync("""{"id":"urn:ngsi-ld:Meter:1","type":"Meter","reading":0}""");
                for (var i = 1; i < 20; i++)
                    (await client.Send(HttpMethod.Patch, $"{Api.Entities}/urn:ngsi-ld:Meter:1/attrs", $$$$"""{"reading":{{{{i}}}}}""")).StatusCode.Should().Be(HttpStatusCode.NoContent);
                await Task.Delay(500); // let some attempts fail
            }
            await first.DisposeAsync();

            await using var second = new BrokerFactory(first.DataDirectory, SubscriptionFixture.FastNotifications);
            using var restarted = second.CreateClient(); // starts the broker (and its dispatcher) again
            (await restarted.Send(HttpMethod.Get, "/health")).StatusCode.Should().Be(HttpStatusCode.OK);
            await Task.Delay(300);
            await using var receiver = await NotificationReceiver.StartAsync(port);

            var received = await receiver.WaitForAsync(20, TimeSpan.FromSeconds(30));

            // Each reading arrives, and in the order it was written (the receiver counts a repeated notification id once).
            received.Select(n => n.Entity["reading"]!.GetValue<int>()).Should().Equal(Enumerable.Range(0, 20));
        }
        finally
        {
            first.DeleteData();
        }
    }
}
