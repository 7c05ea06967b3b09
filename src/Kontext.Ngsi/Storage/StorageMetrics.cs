using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Kontext.Ngsi.Storage;

/// <summary>
/// Latency of the two store calls every request pays for, entity writes and entity queries, as histograms on the
/// "Kontext.Storage" meter (tag: store = sqlite or mongo). Both stores time the same calls at the port, so the numbers
/// compare. Recording costs a timestamp and, only while a listener (the broker's OpenTelemetry) is attached, one
/// histogram update.
/// </summary>
public static class StorageMetrics
{
    public const string MeterName = "Kontext.Storage";
    private static readonly Meter Meter = new(MeterName);

    private static readonly Histogram<double> Writes = Meter.CreateHistogram<double>(
        "kontext.store.write.duration", "s", "Time to commit one entity write (entity, history and change log) in the store");

    private static readonly Histogram<double> Queries = Meter.CreateHistogram<double>(
        "kontext.store.query.duration", "s", "Time to answer one page of an entity query in the store");

    public static Task<T> TimeWrite<T>(string store, Func<Task<T>> write) => Time(Writes, store, write);

    public static Task<T> TimeQuery<T>(string store, Func<Task<T>> query) => Time(Queries, store, query);

    // Without a listener the call's own task is returned: no state machine per write (a batch issues a thousand). A
    // call that throws before it has a task fails the returned task, as it did inside an async method.
    private static Task<T> Time<T>(Histogram<double> histogram, string store, Func<Task<T>> call)
    {
        if (histogram.Enabled) return Timed(histogram, store, call);
        try
        {
            return call();
        }
        catch (OperationCanceledException ex)
        {
            var canceled = new TaskCompletionSource<T>();
            canceled.SetCanceled(ex.CancellationToken);
            return canceled.Task;
        }
        catch (Exception ex)
        {
            return Task.FromException<T>(ex);
        }
    }

    private static async Task<T> Timed<T>(Histogram<double> histogram, string store, Func<Task<T>> call)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            return await call();
        }
        finally
        {
            histogram.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("store", store));
        }
    }
}
