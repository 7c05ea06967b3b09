using System.Net;
using Kontext.Broker.Tests.Infrastructure;
using Kontext.Broker.Tests.Subscriptions;
using Microsoft.Data.Sqlite;

namespace Kontext.Broker.Tests.Notifications;

/// <summary>At-least-once delivery (D5): the receiver is down, the broker restarts, the receiver comes back — nothing is lost.</summary>
public sealed class NotificationRecoveryTests
{
    /// <summary>
    /// Retries wait 5 s (room for a restart or a few writes before one comes due), and the full sweep that reads every
    /// tenant's outbox is an hour away: a delivery in these tests comes from a signal or a retry coming due, not the sweep.
    /// </summary>
    private static readonly Dictionary<string, string?> SlowRetries = new(SubscriptionFixture.FastNotifications)
    {
        ["Kontext:Notifications:RetryDelay"] = "00:00:05",
        ["Kontext:Notifications:MaxRetryDelay"] = "00:00:05",
        ["Kontext:Notifications:SweepInterval"] = "01:00:00",
    };

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

    [Fact]
    public async Task A_retry_stored_before_a_restart_is_sent_when_it_comes_due()
    {
        var first = new BrokerFactory(settings: SlowRetries);
        try
        {
            int port;
            using (var client = first.CreateClient()) port = await FirstNotificationFailedAsync(first, client, "urn:ngsi-ld:Meter:4");
            await first.DisposeAsync();

            // The restarted dispatcher reads the outbox before the stored retry time: nothing is due yet, and nothing
            // written after the restart signals the retry when its time comes.
            await using var second = new BrokerFactory(first.DataDirectory, SlowRetries);
            using var restarted = second.CreateClient();
            (await restarted.Send(HttpMethod.Get, "/health")).StatusCode.Should().Be(HttpStatusCode.OK);
            await using var receiver = await NotificationReceiver.StartAsync(port);

            var received = await receiver.WaitForAsync(1, TimeSpan.FromSeconds(30));

            received.Select(n => n.Entity["reading"]!.GetValue<int>()).Should().Equal(0);
        }
        finally
        {
            first.DeleteData();
        }
    }

    [Fact]
    public async Task Notifications_matched_while_the_first_waits_for_its_retry_follow_it_when_the_receiver_is_back()
    {
        var broker = new BrokerFactory(settings: SlowRetries);
        try
        {
            using var client = broker.CreateClient();
            var port = await FirstNotificationFailedAsync(broker, client, "urn:ngsi-ld:Meter:5");
            // Matched while the first waits for its retry time: the outbox keeps them behind it (the subscription's order).
            for (var i = 1; i < 4; i++)
                (await client.Send(HttpMethod.Patch, $"{Api.Entities}/urn:ngsi-ld:Meter:5/attrs", $$$$"""{"reading":{{{{i}}}}}""")).StatusCode.Should().Be(HttpStatusCode.NoContent);
            await using var receiver = await NotificationReceiver.StartAsync(port);

            var received = await receiver.WaitForAsync(4, TimeSpan.FromSeconds(30));

            received.Select(n => n.Entity["reading"]!.GetValue<int>()).Should().Equal(0, 1, 2, 3);
        }
        finally
        {
            await broker.DisposeAsync();
            broker.DeleteData();
        }
    }

    /// <summary>
    /// Subscribes to Meters at a port nobody listens on (returned), creates the meter (reading 0) and waits until the store
    /// holds its notification's failed first attempt, and with it the retry time (read from the default tenant's file:
    /// the API shows a failure as soon as it happens, before its record is committed).
    /// </summary>
    private static async Task<int> FirstNotificationFailedAsync(BrokerFactory broker, HttpClient client, string meterId)
    {
        var port = NotificationReceiver.FreePort();
        var subscription = $$$$"""
            {"type":"Subscription","entities":[{"type":"Meter"}],"notification":{"format":"keyValues","endpoint":{"uri":"http://127.0.0.1:{{{{port}}}}/notify"}}}
            """;
        (await client.Send(HttpMethod.Post, "/ngsi-ld/v1/subscriptions", subscription)).StatusCode.Should().Be(HttpStatusCode.Created);
        await client.CreateOkAsync($$"""{"id":"{{meterId}}","type":"Meter","reading":0}""");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(broker.DataDirectory, "kontext.db")};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM outbox WHERE attempts > 0";
        while ((long)(await command.ExecuteScalarAsync())! == 0)
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "the first attempt fails at once and its retry is recorded");
            await Task.Delay(50);
        }
        return port;
    }
}
