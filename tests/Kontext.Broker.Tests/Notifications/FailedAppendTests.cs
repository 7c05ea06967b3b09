using System.Net;
using Kontext.Broker.Tests.Infrastructure;
using Kontext.Broker.Tests.Subscriptions;
using Kontext.Ngsi.Notifications;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Tests.Notifications;

/// <summary>
/// The matcher's append of notifications to the outbox fails once (the store refuses the transaction): the round is matched
/// again, and the notification it was about to append must still be sent. Throttling and timeInterval spacing count from a
/// notification in the outbox, never from one whose append failed.
/// </summary>
public sealed class FailedAppendTests
{
    private static async Task<(NotificationReceiver Receiver, HttpClient Client, Func<int> Refused)> BrokerRefusingOneAppendAsync(
        BrokerFactory owner, List<IAsyncDisposable> cleanup)
    {
        var receiver = await NotificationReceiver.StartAsync();
        cleanup.Add(receiver);
        var broker = FaultyStorage.Broker(owner, out var storage);
        cleanup.Add(broker);
        var client = broker.CreateClient();
        var refused = 0;
        storage().Fault = (method, args) =>
            method.Name == nameof(INotificationStore.AppendNotificationsAsync) && ((IReadOnlyList<OutboxMessage>)args[2]!).Count > 0
            && Interlocked.CompareExchange(ref refused, 1, 0) == 0
                ? new InvalidOperationException("injected: the outbox append failed") : null;
        return (receiver, client, () => Volatile.Read(ref refused));
    }

    [Theory]
    [InlineData("\"entities\":[{\"type\":\"Meter\"}],\"throttling\":3600")]
    [InlineData("\"entities\":[{\"type\":\"Meter\"}],\"timeInterval\":3600")]
    public async Task A_notification_whose_append_failed_once_is_still_sent(string subscription)
    {
        var owner = new BrokerFactory(settings: SubscriptionFixture.FastNotifications);
        var cleanup = new List<IAsyncDisposable>();
        try
        {
            var (receiver, client, refused) = await BrokerRefusingOneAppendAsync(owner, cleanup);
            await client.CreateOkAsync("""{"id":"urn:ngsi-ld:Meter:1","type":"Meter","reading":1}""");
            (await client.Send(HttpMethod.Post, "/ngsi-ld/v1/subscriptions",
                $$$$"""{"type":"Subscription",{{{{subscription}}}},"notification":{"format":"keyValues","endpoint":{"uri":"{{{{receiver.Url}}}}"}}}"""))
                .StatusCode.Should().Be(HttpStatusCode.Created);
            (await client.Send(HttpMethod.Patch, $"{Api.Entities}/urn:ngsi-ld:Meter:1/attrs", """{"reading":2}""")).StatusCode.Should().Be(HttpStatusCode.NoContent);

            var received = await receiver.WaitForAsync(1, TimeSpan.FromSeconds(20));

            refused().Should().Be(1, "the first append of a notification failed");
            received.Should().ContainSingle("the retried round appended the notification the failed one had let through")
                .Which.Entity["id"]!.GetValue<string>().Should().Be("urn:ngsi-ld:Meter:1");
        }
        finally
        {
            foreach (var item in Enumerable.Reverse(cleanup)) await item.DisposeAsync();
            await owner.DisposeAsync();
            owner.DeleteData();
        }
    }
}
