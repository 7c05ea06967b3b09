using System.Diagnostics;

namespace Kontext.Bench;

/// <summary>Thread-safe latency samples (milliseconds) with nearest-rank percentiles.</summary>
internal sealed class Latencies
{
    private readonly List<double> _samples = [];

    public int Count { get { lock (_samples) return _samples.Count; } }

    public void Add(long startTimestamp)
    {
        var ms = Stopwatch.GetElapsedTime(startTimestamp).TotalMilliseconds;
        lock (_samples) _samples.Add(ms);
    }

    public void AddMilliseconds(double ms)
    {
        lock (_samples) _samples.Add(ms);
    }

    public double Percentile(double p)
    {
        double[] sorted;
        lock (_samples) sorted = [.. _samples];
        if (sorted.Length == 0) return double.NaN;
        Array.Sort(sorted);
        var rank = (int)Math.Ceiling(p / 100.0 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    public double Max()
    {
        lock (_samples) return _samples.Count == 0 ? double.NaN : _samples.Max();
    }
}
