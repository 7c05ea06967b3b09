using System.Net;
using Kontext.Broker.Tests.ContextSources;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Notifications;

/// <summary>
/// A notification is sent only while its subscription is active (clause 5.8.6): once a PATCH setting isActive to false
/// has answered, none of the notifications queued for the subscription is sent, not even after it is made active again
/// (they are dropped, not held: made active again, it notifies the changes made from then on). Nor is a queued notification
/// sent once its subscription has expired. Each test holds the endpoint's only slot with another subscription's
/// notification, so the subscription's own notifications wait in the dispatcher's queue when the pause comes.
/// </summary>
public sealed class PausedSubscriptionDeliveryTests(OneAtATimeFixture fixture) : DeletedSubscriptionTestBase(fixture.Client), IClassFixture<OneAtATimeFixture>
{
    private const string Subscriptions = "/ngsi-ld/v1/subscriptions";

    [Theory]
    [InlineData(Subscriptions)]
    [InlineData(RegistrationSubscriptionApiTests.Subscriptions)]
    public async Task Notifications_waiting_to_be_sent_are_not_sent_once_their_subscription_is_paused(string subscriptions)
    {
        var (holder, paused) = await QueueBehindAHeldNotificationAsync(subscriptions);

        await PatchAsync(subscriptions, paused, """{"isActive":false}""");
        var received = await ReleaseAndSettleAsync();

        received.Select(n => n.Body["subscriptionId"]!.GetValue<string>()).Should().Equal(holder, holder);
    }

    [Fact]
    public async Task A_subscription_made_active_again_is_notified_of_later_changes_and_not_of_those_queued_before_its_pause()
    {
        var (holder, paused) = await QueueBehindAHeldNotificationAsync(Subscriptions);
        await PatchAsync(Subscriptions, paused, """{"isActive":false}""");
        await ReleaseAndSettleAsync();

        await PatchAsync(Subscriptions, paused, """{"isActive":true}""");
        await Client.CreateOkAsync("""{"id":"urn:ngsi-ld:Paused:3","type":"Paused","n":1}""", tenant: Tenant);
        await Receiver.WaitForAsync(3);

        var received = await Receiver.SettleAsync();
        received.Select(n => n.Body["subscriptionId"]!.GetValue<string>()).Should().Equal(holder, holder, paused);
        received[2].Data.Select(e => e!["id"]!.GetValue<string>()).Should().Equal("urn:ngsi-ld:Paused:3");
        // The dropped notifications were never attempted: they count neither as sent nor as failed.
        var notification = (await (await Client.Send(HttpMethod.Get, $"{Subscriptions}/{paused}", tenant: Tenant)).JsonAsync())["notification"]!;
        notification["timesSent"]!.GetValue<long>().Should().Be(1);
        (notification["timesFailed"]?.GetValue<long>() ?? 0).Should().Be(0);
    }

    [Fact]
    public async Task Notifications_waiting_to_be_sent_are_not_sent_once_their_subscription_has_expired()
    {
        var expiresAt = DateTimeOffset.UtcNow.AddSeconds(4);
        var (holder, _) = await QueueBehindAHeldNotificationAsync(Subscriptions, $"\"expiresAt\":\"{expiresAt.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}\"");

        var left = expiresAt - DateTimeOffset.UtcNow;
        if (left > TimeSpan.Zero) await Task.Delay(left + TimeSpan.FromMilliseconds(300)); // the test is about what happens after it
        var received = await ReleaseAndSettleAsync();

        received.Select(n => n.Body["subscriptionId"]!.GetValue<string>()).Should().Equal(holder, holder);
    }

    private TaskCompletionSource? _answer;

    /// <summary>
    /// A holder subscription whose notification occupies the endpoint's only slot (its answer held), and a second
    /// subscription (entity or registration subscription) with notifications taken from the outbox and waiting for that slot.
    /// </summary>
    private async Task<(string Holder, string Waiting)> QueueBehindAHeldNotificationAsync(string subscriptions, string? members = null)
    {
        var holder = Api.NewId("Subscription");
        var waiting = Api.NewId("Subscription");
        await SubscribeAsync(Subscriptions, holder, "Holder");
        await SubscribeAsync(subscriptions, waiting, "Paused", members);
        _answer = new TaskCompletionSource();
        Receiver.HoldAnswer = _answer.Task;
        await Client.CreateOkAsync("""{"id":"urn:ngsi-ld:Holder:1","type":"Holder","n":1}""", tenant: Tenant);
        (await Receiver.WaitForAsync(1)).Should().ContainSingle();
        if (subscriptions == RegistrationSubscriptionApiTests.Subscriptions)
        {
            foreach (var n in new[] { 1, 2 })
            {
                var registration = RegistrationApiTests.Registration(Api.NewId("ContextSourceRegistration"), """[{"entities":[{"type":"Paused"}]}]""");
                (await Client.Send(HttpMethod.Post, RegistrationApiTests.Registrations, registration, tenant: Tenant)).StatusCode.Should().Be(HttpStatusCode.Created);
            }
        }
        else
        {
            await Client.CreateOkAsync("""{"id":"urn:ngsi-ld:Paused:1","type":"Paused","n":1}""", tenant: Tenant);
            await Client.CreateOkAsync("""{"id":"urn:ngsi-ld:Paused:2","type":"Paused","n":1}""", tenant: Tenant);
        }
        await Task.Delay(1000); // time to be read and queued (the poll interval is 200 ms); the outcome does not depend on it
        return (holder, waiting);
    }

    private async Task PatchAsync(string subscriptions, string id, string fragment) =>
        (await Client.Send(HttpMethod.Patch, $"{subscriptions}/{id}", fragment, tenant: Tenant)).StatusCode.Should().Be(HttpStatusCode.NoContent);

    /// <summary>Frees the endpoint; a later notification of the holder arrives, and nothing of the other subscription before it.</summary>
    private async Task<IReadOnlyList<ReceivedNotification>> ReleaseAndSettleAsync()
    {
        Receiver.HoldAnswer = null;
        _answer!.SetResult();
        await Client.CreateOkAsync("""{"id":"urn:ngsi-ld:Holder:2","type":"Holder","n":1}""", tenant: Tenant);
        await Receiver.WaitForAsync(2);
        return await Receiver.SettleAsync();
    }
}
