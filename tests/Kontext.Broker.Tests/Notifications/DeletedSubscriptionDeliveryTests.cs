using System.Net;
using Kontext.Broker.Tests.ContextSources;
using Kontext.Broker.Tests.Infrastructure;
using Kontext.Broker.Tests.Subscriptions;

namespace Kontext.Broker.Tests.Notifications;

/// <summary>A broker whose dispatcher sends one request at a time to an endpoint, so one held answer holds every other delivery there.</summary>
public sealed class OneAtATimeFixture() : BrokerFixtureBase(new Dictionary<string, string?>(SubscriptionFixture.FastNotifications)
{
    ["Kontext:Notifications:MaxInFlightPerEndpoint"] = "1",
});

/// <summary>A receiver per test and subscriptions to it, in a tenant of the test's own.</summary>
public abstract class DeletedSubscriptionTestBase(HttpClient client) : IAsyncLifetime
{
    protected HttpClient Client { get; } = client;
    protected string Tenant { get; } = "gone-" + Guid.NewGuid().ToString("N")[..8];
    protected NotificationReceiver Receiver { get; private set; } = null!;

    public async Task InitializeAsync() => Receiver = await NotificationReceiver.StartAsync();

    public async Task DisposeAsync() => await Receiver.DisposeAsync();

    /// <param name="members">More members of the subscription, as JSON text after a comma (e.g. <c>"expiresAt":"…"</c>).</param>
    protected async Task SubscribeAsync(string path, string id, string type, string? members = null)
    {
        var more = members is null ? "" : "," + members;
        var body = $$$$"""
            {"id":"{{{{id}}}}","type":"Subscription","entities":[{"type":"{{{{type}}}}"}]{{{{more}}}},
             "notification":{"endpoint":{"uri":"{{{{Receiver.Url}}}}","accept":"application/json"}}}
            """;
        var response = await Client.Send(HttpMethod.Post, path, body, tenant: Tenant);
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }
}

/// <summary>
/// Once DELETE of a subscription (clause 5.8.5) or of a registration subscription (clause 5.11.6) has answered 204, no
/// notification of it is sent any more, even one the dispatcher had already taken from the outbox and was about to
/// send (the ETSI suite's teardowns delete a registration, which owes a notification, and then the subscription).
/// </summary>
public sealed class DeletedSubscriptionDeliveryTests(OneAtATimeFixture fixture) : DeletedSubscriptionTestBase(fixture.Client), IClassFixture<OneAtATimeFixture>
{
    [Theory]
    [InlineData("/ngsi-ld/v1/subscriptions")]
    [InlineData(RegistrationSubscriptionApiTests.Subscriptions)]
    public async Task A_notification_waiting_to_be_sent_is_not_sent_once_its_subscription_is_deleted(string subscriptions)
    {
        var holder = Api.NewId("Subscription");
        var gone = Api.NewId("Subscription");
        await SubscribeAsync("/ngsi-ld/v1/subscriptions", holder, "Holder");
        await SubscribeAsync(subscriptions, gone, "Gone");
        var answer = new TaskCompletionSource();
        Receiver.HoldAnswer = answer.Task;
        // The holder's notification occupies the endpoint's only slot until its answer is released.
        await Client.CreateOkAsync("""{"id":"urn:ngsi-ld:Holder:1","type":"Holder","n":1}""", tenant: Tenant);
        (await Receiver.WaitForAsync(1)).Should().ContainSingle();
        // The other subscription's notification is taken from the outbox and waits for the slot.
        if (subscriptions == RegistrationSubscriptionApiTests.Subscriptions)
        {
            var registration = RegistrationApiTests.Registration(Api.NewId("ContextSourceRegistration"), """[{"entities":[{"type":"Gone"}]}]""");
            (await Client.Send(HttpMethod.Post, RegistrationApiTests.Registrations, registration, tenant: Tenant)).StatusCode.Should().Be(HttpStatusCode.Created);
        }
        else await Client.CreateOkAsync("""{"id":"urn:ngsi-ld:Gone:1","type":"Gone","n":1}""", tenant: Tenant);
        await Task.Delay(1000); // time to be read and queued (the poll interval is 200 ms); the outcome does not depend on it

        (await Client.Send(HttpMethod.Delete, $"{subscriptions}/{gone}", tenant: Tenant)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        Receiver.HoldAnswer = null;
        answer.SetResult();
        // The endpoint is free again: a later notification of the holder arrives, and nothing of the deleted one before it.
        await Client.CreateOkAsync("""{"id":"urn:ngsi-ld:Holder:2","type":"Holder","n":1}""", tenant: Tenant);
        await Receiver.WaitForAsync(2);

        var received = await Receiver.SettleAsync();
        received.Select(n => n.Body["subscriptionId"]!.GetValue<string>()).Should().Equal(holder, holder);
        received[1].Entity["id"]!.GetValue<string>().Should().Be("urn:ngsi-ld:Holder:2");
    }
}

/// <summary>A broker whose HTTP deliveries make quick retries within one attempt (the default), with fast polling.</summary>
public sealed class QuickRetriesFixture() : BrokerFixtureBase(new Dictionary<string, string?>(SubscriptionFixture.FastNotifications)
{
    ["Kontext:Notifications:ImmediateRetries"] = "2",
});

/// <summary>A quick retry within a delivery attempt is a new send: none once the subscription has been deleted.</summary>
public sealed class DeletedSubscriptionQuickRetryTests(QuickRetriesFixture fixture) : DeletedSubscriptionTestBase(fixture.Client), IClassFixture<QuickRetriesFixture>
{
    [Fact]
    public async Task A_refused_notification_is_not_tried_again_once_its_subscription_is_deleted()
    {
        var id = Api.NewId("Subscription");
        await SubscribeAsync("/ngsi-ld/v1/subscriptions", id, "Gone");
        // The receiver takes its time, then refuses: without the deletion the transport would try twice more at once.
        Receiver.Delay = TimeSpan.FromSeconds(2);
        Receiver.FailWithStatus = 503;
        await Client.CreateOkAsync("""{"id":"urn:ngsi-ld:Gone:1","type":"Gone","n":1}""", tenant: Tenant);
        await Task.Delay(700); // the first try is sent meanwhile (poll interval 200 ms); the outcome does not depend on it

        (await Client.Send(HttpMethod.Delete, $"/ngsi-ld/v1/subscriptions/{id}", tenant: Tenant)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        await Receiver.SettleAsync(TimeSpan.FromSeconds(5));

        Receiver.Attempts.Should().BeLessThanOrEqualTo(1, "only the try already on the wire before the deletion reaches the receiver");
    }
}
