using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Subscriptions;

/// <summary>A broker tuned for quick notification tests (fast polling and retries), shared by a test class.</summary>
public sealed class SubscriptionFixture() : BrokerFixtureBase(FastNotifications)
{
    public static readonly Dictionary<string, string?> FastNotifications = new()
    {
        ["Kontext:Notifications:PollInterval"] = "00:00:00.200",
        ["Kontext:Notifications:RetryDelay"] = "00:00:00.100",
        ["Kontext:Notifications:MaxRetryDelay"] = "00:00:00.400",
        ["Kontext:Notifications:ImmediateRetries"] = "0",
        ["Kontext:Notifications:Timeout"] = "00:00:10",
    };
}
