using System.Diagnostics.Metrics;

namespace Kontext.Adapters;

/// <summary>
/// The adapters' instruments, on the broker's "Kontext" meter (a second Meter instance of the same name: exporters select
/// meters by name, so the host exports these beside its own without knowing this module).
/// </summary>
internal static class AdapterMeters
{
    private static readonly Meter Meter = new("Kontext");

    private static readonly Counter<long> Uplinks = Meter.CreateCounter<long>(
        "kontext.adapter.uplinks", "{uplink}", "Vendor uplinks by source and outcome (stored, duplicate, ignored, dead_lettered, rejected)");

    private static readonly Counter<long> DeadLetters = Meter.CreateCounter<long>(
        "kontext.adapter.dead_letters", "{uplink}", "Uplinks kept as dead letters (by source and reason)");

    public static void Uplink(string source, string outcome) =>
        Uplinks.Add(1, new("source", source), new("outcome", outcome));

    public static void DeadLettered(string source, string reason) =>
        DeadLetters.Add(1, new("source", source), new("reason", reason));
}
