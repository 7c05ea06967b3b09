using Kontext.Ngsi.Notifications;

namespace Kontext.Broker.Notifications;

/// <summary>Delivers one notification to an endpoint; false or an exception means "not delivered, try again later".</summary>
internal interface INotificationTransport
{
    bool CanDeliver(Uri endpoint);

    /// <summary>
    /// Sends the notification. A transport that tries again within the call asks <paramref name="stillWanted"/> first and,
    /// when it answers false (the subscription was deleted meanwhile), throws <see cref="DeliveryWithdrawnException"/>.
    /// </summary>
    Task<bool> DeliverAsync(Uri endpoint, NotificationRequest request, Func<bool> stillWanted, CancellationToken cancellationToken);
}

/// <summary>A delivery stopped before another try because its notification is no longer wanted.</summary>
internal sealed class DeliveryWithdrawnException() : Exception("the notification's subscription was deleted");
