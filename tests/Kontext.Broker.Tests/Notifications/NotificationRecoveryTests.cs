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

    [Fact]
    public async Task Notifications_still_being_delivered_when_the_broker_stops_all_arrive_after_the_restart()
    {
        // Outcomes are recorded in batches after the receiver answered; a stop in between must cost at most a repeat.
        await using var receiver = await NotificationReceiver.StartAsync();
        receiver.Delay = TimeSpan.FromMilliseconds(30);
        var first = new BrokerFactory(settings: SubscriptionFixture.FastNotifications);
        try
        {
            using (var client = first.CreateClient())
            {
                var subscription = $$$$"""
                    {"type":"Subscription","entities":[{"type":"Meter"}],"notification":{"format":"keyValues","endpoint":{"uri":"{{{{receiver.Url}}}}"}}}
                    """;
                (await client.Send(HttpMethod.Post, "/ngsi-ld/v1/subscriptions", subscription)).StatusCode.Should().Be(HttpStatusCode.Created);
                await client.CreateOkAsync("""{"id":"urn:ngsi-ld:Meter:2","type":"Meter","reading":0}""");
                for (var i = 1; i < 40; i++)
                    (await client.Send(HttpMethod.Patch, $"{Api.Entities}/urn:ngsi-ld:Meter:2/attrs", $$$$"""{"reading":{{{{i}}}}}""")).StatusCode.Should().Be(HttpStatusCode.NoContent);
                await receiver.WaitForAsync(5);
            }
            await first.DisposeAsync(); // while notifications are still on their way
            receiver.Received.Count.Should().BeLessThan(40, "the stop came in the middle of the deliveries");

            await using var second = new BrokerFactory(first.DataDirectory, SubscriptionFixture.FastNotifications);
            using var restarted = second.CreateClient();
            (await restarted.Send(HttpMethod.Get, "/health")).StatusCode.Should().Be(HttpStatusCode.OK);

            var received = await receiver.WaitForAsync(40, TimeSpan.FromSeconds(30));

            received.Select(n => n.Entity["reading"]!.GetValue<int>()).Should().Equal(Enumerable.Range(0, 40));
        }
        finally
        {
            first.DeleteData();
        }
    }

    [Fact]
    public async Task Batched_delivery_records_count_every_notification_once()
    {
        await using var receiver = await NotificationReceiver.StartAsync();
        var first = new BrokerFactory(settings: SubscriptionFixture.FastNotifications);
        try
        {
            using (var client = first.CreateClient())
            {
                for (var s = 0; s < 3; s++)
                {
                    var subscription = $$$$"""
                        {"id":"urn:ngsi-ld:Subscription:batch-{{{{s}}}}","type":"Subscription","entities":[{"type":"Meter"}],"notification":{"format":"keyValues","endpoint":{"uri":"{{{{receiver.Url}}}}"}}}
                        """;
                    (await client.Send(HttpMethod.Post, "/ngsi-ld/v1/subscriptions", subscription)).StatusCode.Should().Be(HttpStatusCode.Created);
                }
                await client.CreateOkAsync("""{"id":"urn:ngsi-ld:Meter:3","type":"Meter","reading":0}""");
                for (var i = 1; i < 25; i++)
                    (await client.Send(HttpMethod.Patch, $"{Api.Entities}/urn:ngsi-ld:Meter:3/attrs", $$$$"""{"reading":{{{{i}}}}}""")).StatusCode.Should().Be(HttpStatusCode.NoContent);
                (await receiver.WaitForAsync(75, TimeSpan.FromSeconds(30))).Should().HaveCount(75);
                await receiver.SettleAsync(TimeSpan.FromMilliseconds(500));
            }
            await first.DisposeAsync();

            // After a restart only the stored counters are left: each delivered notification recorded exactly once.
            await using var second = new BrokerFactory(first.DataDirectory, SubscriptionFixture.FastNotifications);
            using var restarted = second.CreateClient();
            for (var s = 0; s < 3; s++)
            {
                var notification = (await (await restarted.Send(HttpMethod.Get, $"/ngsi-ld/v1/subscriptions/urn:ngsi-ld:Subscription:batch-{s}")).JsonAsync())["notification"]!;
                notification["timesSent"]!.GetValue<int>().Should().Be(25);
                notification.AsObject().ContainsKey("timesFailed").Should().BeFalse();
                notification["lastSuccess"].Should().NotBeNull();
            }
            receiver.Duplicates.Should().Be(0);
        }
        finally
        {
            first.DeleteData();
        }
    }
}
