using Kontext.Broker.Notifications;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Tests.Notifications;

/// <summary>What the dispatcher asks before each attempt: was the message's subscription deleted or paused after it was made.</summary>
public sealed class WithdrawnSubscriptionsTests
{
    private const string Subscription = "urn:ngsi-ld:Subscription:s";

    private static OutboxMessage Made(DateTimeOffset at, string subscription = Subscription) => new(1, subscription, "http://127.0.0.1:9/n", "{}", 0, at);

    [Fact]
    public void Only_the_messages_made_before_the_withdrawal_of_their_subscription_in_their_tenant_are_covered()
    {
        var withdrawals = new WithdrawnSubscriptions();
        var before = Made(DateTimeOffset.UtcNow.AddSeconds(-1));
        withdrawals.Covers("t", before).Should().BeFalse("nothing is withdrawn yet");

        withdrawals.Withdrawn("t", Subscription);

        withdrawals.Covers("t", before).Should().BeTrue();
        withdrawals.Covers("t", Made(DateTimeOffset.UtcNow.AddSeconds(1))).Should().BeFalse("made after: a subscription created or made active again notifies");
        withdrawals.Covers("other", before).Should().BeFalse("another tenant's subscription of that id");
        withdrawals.Covers(null, before).Should().BeFalse("the default tenant's");
        withdrawals.Covers("t", Made(before.CreatedAt, "urn:ngsi-ld:Subscription:other")).Should().BeFalse();
    }

    [Fact]
    public void A_second_withdrawal_covers_what_was_made_up_to_it()
    {
        var withdrawals = new WithdrawnSubscriptions();
        withdrawals.Withdrawn(null, Subscription);
        var between = Made(DateTimeOffset.UtcNow.AddMilliseconds(1));
        withdrawals.Covers(null, between).Should().BeFalse();
        SpinWait.SpinUntil(() => DateTimeOffset.UtcNow > between.CreatedAt);

        withdrawals.Withdrawn(null, Subscription); // paused, made active, paused again

        withdrawals.Covers(null, between).Should().BeTrue();
    }

    [Fact]
    public void Beyond_ten_thousand_withdrawals_the_oldest_is_forgotten_first()
    {
        var withdrawals = new WithdrawnSubscriptions();
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        for (var i = 0; i <= 10_000; i++) withdrawals.Withdrawn("t", $"urn:ngsi-ld:Subscription:{i}");

        withdrawals.Covers("t", Made(before, "urn:ngsi-ld:Subscription:0")).Should().BeFalse();
        withdrawals.Covers("t", Made(before, "urn:ngsi-ld:Subscription:1")).Should().BeTrue();
        withdrawals.Covers("t", Made(before, "urn:ngsi-ld:Subscription:10000")).Should().BeTrue();
    }
}
