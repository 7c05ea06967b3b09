using System.Diagnostics.Metrics;

namespace Kontext.Broker.Operations.Metrics;

/// <summary>
/// The broker's own instruments on the "Kontext" meter (exported by OpenTelemetry, docs/operations.md#metrics). Static,
/// like the runtime's meters: recording is one call where the event happens and costs next to nothing when no listener
/// is attached. Tags are few and bounded (outcome, adapter source names from the configuration), never entity ids.
/// </summary>
internal static class KontextMeters
{
    public const string MeterName = "Kontext";
    internal static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> NotificationsSent = Meter.CreateCounter<long>(
        "kontext.notifications.sent", "{notification}", "Notifications the receiving endpoint accepted");

    private static readonly Counter<long> NotificationsFailed = Meter.CreateCounter<long>(
        "kontext.notifications.failed", "{attempt}", "Failed delivery attempts (outcome: retry = rescheduled, gave_up = dropped for good)");

    private static readonly UpDownCounter<long> NotificationsPending = Meter.CreateUpDownCounter<long>(
        "kontext.notifications.pending", "{notification}", "Notifications this process took from the outbox and has not yet delivered or given up");

    private static readonly Histogram<double> OutboxLag = Meter.CreateHistogram<double>(
        "kontext.notifications.outbox_lag", "s", "Time from a notification entering the outbox to its delivery");

    public static void NotificationQueued() => NotificationsPending.Add(1);

    public static void NotificationLeft() => NotificationsPending.Add(-1);

    public static void NotificationSent(DateTimeOffset enteredOutbox)
    {
        NotificationsSent.Add(1);
        if (OutboxLag.Enabled) OutboxLag.Record(Math.Max(0, (DateTimeOffset.UtcNow - enteredOutbox).TotalSeconds));
    }

    public static void NotificationFailed(bool gaveUp) =>
        NotificationsFailed.Add(1, new KeyValuePair<string, object?>("outcome", gaveUp ? "gave_up" : "retry"));
}
