using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Kontext.Bench;

/// <summary>
/// The real broker as a child process (`dotnet Kontext.Broker.dll`), listening on 127.0.0.1 only, with its own data
/// directory. Its memory is sampled from /proc while it runs; Dispose kills it (whole tree) whatever happened.
/// </summary>
internal sealed class BrokerProcess : IDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly CancellationTokenSource _stopSampling = new();
    private readonly Task _sampler;
    private long _peakRssBytes;

    private BrokerProcess(Process process, StreamWriter log, Uri baseAddress)
    {
        _process = process;
        _log = log;
        BaseAddress = baseAddress;
        _sampler = Task.Run(SampleAsync);
    }

    public Uri BaseAddress { get; }
    public int ProcessId => _process.Id;
    public string LogPath { get; private set; } = "";

    /// <summary>Highest resident set size seen by the 200 ms sampler (bytes).</summary>
    public long SampledPeakRssBytes => Interlocked.Read(ref _peakRssBytes);

    public static Task<BrokerProcess> StartAsync(string brokerDll, string dataDirectory, string logPath, CancellationToken cancellationToken, params string[] extraArgs) =>
        LaunchAsync(brokerDll, url => new[]
        {
            "--urls", url,
            "--Kontext:Storage:Provider=sqlite",
            $"--Kontext:Storage:DataDirectory={dataDirectory}",
            "--Kontext:Limits:MaxRequestBodyBytes=16777216",
            "--Kontext:Limits:MaxBatchSize=1000",
            "--Logging:LogLevel:Default=Warning",
        }.Concat(extraArgs), logPath, cancellationToken);

    /// <summary>The bare Kestrel + SQLite baseline app (bench/Kontext.Bench.Baseline), started the same way as the broker.</summary>
    public static Task<BrokerProcess> StartBaselineAsync(string baselineDll, string dataDirectory, string logPath, CancellationToken cancellationToken) =>
        LaunchAsync(baselineDll, url => ["--urls", url, $"--DataDirectory={dataDirectory}"], logPath, cancellationToken);

    private static async Task<BrokerProcess> LaunchAsync(string dll, Func<string, IEnumerable<string>> arguments, string logPath, CancellationToken cancellationToken)
    {
        var port = FreePort();
        var url = $"http://127.0.0.1:{port}";
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!, // content root: the app's appsettings.json
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        foreach (var arg in arguments(url)) start.ArgumentList.Add(arg);
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        // No proxies for the broker's own outgoing calls (it should make none: the core @context is embedded).
        start.Environment["NO_PROXY"] = "*";

        var log = new StreamWriter(logPath) { AutoFlush = true };
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => Append(log, e.Data);
        process.ErrorDataReceived += (_, e) => Append(log, e.Data is null ? null : "[stderr] " + e.Data);
        if (!process.Start()) throw new InvalidOperationException("Could not start the broker process");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var broker = new BrokerProcess(process, log, new Uri(url)) { LogPath = logPath };
        try
        {
            await broker.WaitHealthyAsync(TimeSpan.FromSeconds(60), cancellationToken);
            return broker;
        }
        catch
        {
            broker.Dispose();
            throw;
        }
    }

    private static void Append(StreamWriter log, string? line)
    {
        if (line is null) return;
        lock (log)
        {
            try { log.WriteLine(line); } catch (ObjectDisposedException) { } // output after the broker was stopped
        }
    }

    private async Task WaitHealthyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (_process.HasExited) throw new InvalidOperationException($"The broker exited with code {_process.ExitCode} during start-up; see {LogPath}");
            try
            {
                using var response = await client.GetAsync("/health", cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested) { }
            await Task.Delay(200, cancellationToken);
        }
        throw new TimeoutException($"The broker did not answer /health within {timeout.TotalSeconds} s; see {LogPath}");
    }

    private async Task SampleAsync()
    {
        while (!_stopSampling.IsCancellationRequested)
        {
            var rss = ReadStatusKb("VmRSS");
            if (rss is { } kb)
            {
                var bytes = kb * 1024;
                long seen;
                while (bytes > (seen = Interlocked.Read(ref _peakRssBytes)) && Interlocked.CompareExchange(ref _peakRssBytes, bytes, seen) != seen) { }
            }
            try { await Task.Delay(200, _stopSampling.Token); } catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>A field of /proc/&lt;pid&gt;/status in kB (VmHWM: peak resident set, VmRSS: current), or null off Linux.</summary>
    public long? ReadStatusKb(string field) => ReadKb("status", field);

    /// <summary>A "Field: n kB" line of /proc/&lt;pid&gt;/<paramref name="file"/>, or null off Linux.</summary>
    private long? ReadKb(string file, string field)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{_process.Id}/{file}"))
            {
                if (!line.StartsWith(field + ":", StringComparison.Ordinal)) continue;
                var parts = line[(field.Length + 1)..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return null;
    }

    /// <summary>The resident set now, split as the kernel counts it (/proc/&lt;pid&gt;/status), or null off Linux.</summary>
    public Residency? ReadResidency() =>
        ReadStatusKb("VmRSS") is { } rss
            ? new Residency(rss, ReadStatusKb("RssAnon") ?? 0, ReadStatusKb("RssFile") ?? 0, ReadStatusKb("RssShmem") ?? 0, ReadStatusKb("VmHWM") ?? 0,
                ReadKb("smaps_rollup", "Pss") ?? 0, ReadKb("smaps_rollup", "Pss_File") ?? 0)
            : null;

    /// <summary>CPU time and I/O of the process so far, from /proc (Linux); zeros elsewhere.</summary>
    public ProcessCounters ReadCounters() => ProcessCounters.Read(_process.Id);

    public long WorkingSetBytes()
    {
        _process.Refresh();
        return _process.WorkingSet64;
    }

    public bool HasExited => _process.HasExited;

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        _stopSampling.Cancel();
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException) { } // already gone
        try { _sampler.Wait(2_000); } catch (AggregateException) { }
        _process.Dispose();
        lock (_log) _log.Dispose();
    }
}

/// <summary>
/// A process's resident set in kB: RssAnon is its own memory (heaps, SQLite's page caches, stacks); RssFile the file
/// pages mapped into it (the runtime's and the app's code, and a database read through mmap): shared with the kernel's
/// page cache and reclaimable under pressure, yet counted in VmRSS, and once per mapping: a database page mapped by
/// eight reader connections counts eight times. RssShmem: shared memory (SQLite's -shm wal-index). VmHWM is the peak of
/// VmRSS over the process's life. Pss (/proc/&lt;pid&gt;/smaps_rollup) divides each page among its mappings, so a page
/// counts once however many connections map it, and a shared library page in part.
/// </summary>
internal readonly record struct Residency(long RssKb, long AnonKb, long FileKb, long ShmemKb, long PeakKb, long PssKb, long PssFileKb)
{
    public string Describe() => $"VmRSS {RssKb / 1024.0:F0} MB (RssAnon {AnonKb / 1024.0:F0}, RssFile {FileKb / 1024.0:F0}, RssShmem {ShmemKb / 1024.0:F0}), "
                                + $"VmHWM {PeakKb / 1024.0:F0} MB, Pss {PssKb / 1024.0:F0} MB (Pss_File {PssFileKb / 1024.0:F0})";
}
