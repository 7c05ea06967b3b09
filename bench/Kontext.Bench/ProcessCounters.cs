using System.Globalization;

namespace Kontext.Bench;

/// <summary>
/// What a process has consumed so far, from /proc/&lt;pid&gt;/stat (user + system CPU time) and /proc/&lt;pid&gt;/io
/// (write_bytes: bytes sent to the storage layer; wchar: bytes passed to write calls). On a shared, noisy machine these
/// stay meaningful per request where throughput does not: another process's load slows a request but does not make it
/// cost more CPU or write more bytes. ContextSwitches sums voluntary and nonvoluntary switches over the process's live
/// threads (/proc/&lt;pid&gt;/task/*/status): a request that hops threads pays for it in scheduler time (issue 12).
/// </summary>
internal readonly record struct ProcessCounters(double CpuMilliseconds, long WriteBytes, long WriteChars, long WriteCalls, long ContextSwitches = 0,
    IReadOnlyDictionary<int, long>? SwitchesByThread = null, long ReadCalls = 0, long ReadChars = 0)
{
    // USER_HZ: 100 on every Linux configuration .NET runs on.
    private const double TicksPerSecond = 100;

    public static ProcessCounters operator -(ProcessCounters after, ProcessCounters before) => new(
        after.CpuMilliseconds - before.CpuMilliseconds, after.WriteBytes - before.WriteBytes,
        after.WriteChars - before.WriteChars, after.WriteCalls - before.WriteCalls, SwitchesBetween(before, after),
        null, after.ReadCalls - before.ReadCalls, after.ReadChars - before.ReadChars);

    /// <summary>
    /// Per thread, since a thread that exits takes its count with it: the process's sum can fall between two readings
    /// (negative figures in a sequential work, where pool threads retire). Threads that exited in between are not counted.
    /// </summary>
    private static long SwitchesBetween(ProcessCounters before, ProcessCounters after)
    {
        if (after.SwitchesByThread is null || before.SwitchesByThread is null) return after.ContextSwitches - before.ContextSwitches;
        long switches = 0;
        foreach (var (thread, count) in after.SwitchesByThread)
            switches += Math.Max(0, count - before.SwitchesByThread.GetValueOrDefault(thread));
        return switches;
    }

    public static ProcessCounters operator +(ProcessCounters a, ProcessCounters b) => new(
        a.CpuMilliseconds + b.CpuMilliseconds, a.WriteBytes + b.WriteBytes, a.WriteChars + b.WriteChars, a.WriteCalls + b.WriteCalls,
        a.ContextSwitches + b.ContextSwitches, null, a.ReadCalls + b.ReadCalls, a.ReadChars + b.ReadChars);

    public static ProcessCounters Read(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // Fields after the command name (which may hold spaces) start at state, field 3: utime is 14, stime 15.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            long writeBytes = 0, writeChars = 0, writeCalls = 0, readCalls = 0, readChars = 0;
            foreach (var line in File.ReadLines($"/proc/{pid}/io"))
            {
                var parts = line.Split(':', 2, StringSplitOptions.TrimEntries);
                if (parts.Length != 2) continue;
                var value = long.Parse(parts[1], CultureInfo.InvariantCulture);
                switch (parts[0])
                {
                    case "write_bytes": writeBytes = value; break;
                    case "wchar": writeChars = value; break;
                    case "syscw": writeCalls = value; break;
                    case "syscr": readCalls = value; break;
                    case "rchar": readChars = value; break;
                }
            }
            var byThread = ContextSwitchesOf(pid);
            return new ProcessCounters(ticks * 1000 / TicksPerSecond, writeBytes, writeChars, writeCalls, byThread.Values.Sum(), byThread, readCalls, readChars);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return default;
        }
    }
    /// <summary>Switches of each thread alive now, by thread id.</summary>
    private static Dictionary<int, long> ContextSwitchesOf(int pid)
    {
        var byThread = new Dictionary<int, long>();
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            if (!int.TryParse(Path.GetFileName(task), NumberStyles.None, CultureInfo.InvariantCulture, out var thread)) continue;
            try
            {
                long switches = 0;
                foreach (var line in File.ReadLines(Path.Combine(task, "status")))
                    if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal) || line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal))
                        switches += long.Parse(line.AsSpan(line.IndexOf(':') + 1).Trim(), CultureInfo.InvariantCulture);
                byThread[thread] = switches;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { } // the thread exited meanwhile
        }
        return byThread;
    }
}
