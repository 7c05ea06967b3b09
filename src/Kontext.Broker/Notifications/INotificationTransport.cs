using Kontext.Ngsi.Notifications;

namespace Kontext.Broker.Notifications;

/// <summary>Delivers one notification to an endpoint; false or an exception means "not delivered, try again later".</summary>
internal interface INotificationTransport
{
    bool CanDeliver(Uri endpoint);

    Task<bool> DeliverAsync(Uri endpoint, NotificationRequest request, CancellationToken cancellationToken);
}
