using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Kontext.Broker.Tests.Infrastructure;

/// <summary>
/// The built broker started as a separate process on a free 127.0.0.1 port: for what the in-memory test server cannot
/// show (Kestrel itself, kill -9, descriptor limits).
/// </summary>
internal sealed class BrokerProcess : IDisposable
{
    private readonly Process _process;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _log;

    private BrokerProcess(Process process, string url, System.Collections.Concurrent.ConcurrentQueue<string> log)
    {
        _process = process;
        Url = url;
        _log = log;
    }

    /// <summary>The last lines the broker wrote (warnings and errors), for assertion messages.</summary>
    public string RecentLog => string.Join('\n', _log);

    public string Url { get; }
    public int ProcessId => _process.Id;
    public bool HasExited => _process.HasExited;

    /// <param name="settings">Extra environment (Kontext__Limits__MaxTenants=...).</param>
    /// <param name="maxOpenFiles">When set, the broker runs under `ulimit -n` (soft and hard) of this many descriptors.</param>
    public static async Task<BrokerProcess> StartAsync(string dataDirectory, IDictionary<string, string>? settings = null, int? maxOpenFiles = null)
    {
        var port = FreePort();
        var url = $"http://127.0.0.1:{port}";
        var dll = Path.Combine(AppContext.BaseDirectory, "Kontext.Broker.dll");
        var start = maxOpenFiles is { } limit
            ? new ProcessStartInfo("bash", ["-c", $"ulimit -n {limit} && exec dotnet \"$0\" --urls \"$1\"", dll, url])
            : new ProcessStartInfo("dotnet", [dll, "--urls", url]);
        start.WorkingDirectory = AppContext.BaseDirectory;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        start.Environment["Kontext__Storage__DataDirectory"] = dataDirectory;
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) start.Environment[key] = value;
        var process = Process.Start(start)!;
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        void Keep(object _, DataReceivedEventArgs line)
        {
            if (line.Data is null) return;
            log.Enqueue(line.Data);
            while (log.Count > 200) log.TryDequeue(out var _);
        }
        process.OutputDataReceived += Keep;
        process.ErrorDataReceived += Keep;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        for (var attempt = 0; attempt < 300; attempt++)
        {
            try
            {
                if ((await probe.GetAsync(url + "/health")).IsSuccessStatusCode) return new BrokerProcess(process, url, log);
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            if (process.HasExited) throw new InvalidOperationException($"broker exited with {process.ExitCode}: {string.Join('\n', log)}");
            await Task.Delay(100);
        }
        process.Kill(true);
        throw new TimeoutException("broker did not start");
    }

    /// <summary>The descriptors the broker process holds open now (from /proc).</summary>
    public int OpenDescriptors() => Directory.GetFiles($"/proc/{_process.Id}/fd").Length;

    /// <summary>The directories the broker process watches for changes now (its inotify watches, from /proc).</summary>
    public int FileWatches() => Directory.GetFiles($"/proc/{_process.Id}/fdinfo").Sum(info =>
    {
        try { return File.ReadLines(info).Count(line => line.StartsWith("inotify ", StringComparison.Ordinal)); }
        catch (IOException) { return 0; } // a descriptor closed meanwhile
    });

    public void Kill()
    {
        if (!_process.HasExited)
        {
            Process.Start("kill", ["-9", _process.Id.ToString()])!.WaitForExit();
            _process.WaitForExit();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(true);
        _process.Dispose();
    }
}
