using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kontext.Bench;

/// <summary>
/// The notification endpoint of the notification phases: Kestrel (slim builder) on 127.0.0.1 with an ephemeral port,
/// in the bench process. Each path is its own <see cref="Sink"/>. A notification is counted once by its `id`
/// (at-least-once delivery may repeat it); the arrival time is taken when its body has been read and parsed.
/// </summary>
internal sealed class NotificationReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, Sink> _sinks = new(StringComparer.Ordinal);

    private NotificationReceiver(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public Sink this[string path] => _sinks.GetOrAdd(path, _ => new Sink());

    public Uri Endpoint(string path) => new(BaseAddress, path);

    public static async Task<NotificationReceiver> StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        NotificationReceiver? receiver = null;
        app.Run(async http =>
        {
            if (!HttpMethods.IsPost(http.Request.Method)) { http.Response.StatusCode = 405; return; }
            var sink = receiver!._sinks.GetOrAdd(http.Request.Path.Value ?? "/", _ => new Sink());
            await sink.Gate.Task.WaitAsync(http.RequestAborted); // held closed, the broker's outbox fills up
            using var json = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted);
            var arrived = Stopwatch.GetTimestamp();
            sink.Receive(json.RootElement, arrived);
            http.Response.StatusCode = 204;
        });
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver = new NotificationReceiver(app, new Uri(address.Replace("[::1]", "127.0.0.1")));
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        try { await _app.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(5)).Token); } catch (OperationCanceledException) { }
        await _app.DisposeAsync();
    }

    /// <summary>What one path received: distinct notifications, duplicates, and the first arrival of each `seq` value.</summary>
    internal sealed class Sink
    {
        private readonly ConcurrentDictionary<string, byte> _ids = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<long, TaskCompletionSource<long>> _seq = new();
        private int _distinct, _duplicates, _entities, _malformed, _outOfOrder;
        private long _firstArrival, _lastArrival;
        private readonly Dictionary<string, long> _highestSeq = new(StringComparer.Ordinal); // per subscription

        /// <summary>Requests wait for this before they are read: open unless <see cref="Hold"/> was called.</summary>
        public TaskCompletionSource Gate { get; private set; } = Opened();

        public void Hold() => Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release() => Gate.TrySetResult();

        private static TaskCompletionSource Opened()
        {
            var gate = new TaskCompletionSource();
            gate.SetResult();
            return gate;
        }

        /// <summary>First arrivals whose `seq` is lower than one of the same subscription that arrived before it (meaningful when entities are numbered in write order).</summary>
        public int OutOfOrder => Volatile.Read(ref _outOfOrder);

        public int Distinct => Volatile.Read(ref _distinct);
        public int Duplicates => Volatile.Read(ref _duplicates);
        public int Entities => Volatile.Read(ref _entities);
        public int Malformed => Volatile.Read(ref _malformed);
        public long FirstArrival => Interlocked.Read(ref _firstArrival);
        public long LastArrival => Interlocked.Read(ref _lastArrival);

        public void Receive(JsonElement notification, long arrived)
        {
            if (notification.ValueKind != JsonValueKind.Object || !notification.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String
                || !notification.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
            {
                Interlocked.Increment(ref _malformed);
                return;
            }
            if (!_ids.TryAdd(id.GetString()!, 0))
            {
                Interlocked.Increment(ref _duplicates);
                return;
            }
            Interlocked.CompareExchange(ref _firstArrival, arrived, 0);
            long last;
            while (arrived > (last = Interlocked.Read(ref _lastArrival)) && Interlocked.CompareExchange(ref _lastArrival, arrived, last) != last) { }
            foreach (var entity in data.EnumerateArray())
            {
                Interlocked.Increment(ref _entities);
                // keyValues: "seq": 42
                if (entity.ValueKind == JsonValueKind.Object && entity.TryGetProperty("seq", out var seq) && seq.ValueKind == JsonValueKind.Number && seq.TryGetInt64(out var n))
                {
                    Waiter(n).TrySetResult(arrived);
                    var subscription = notification.TryGetProperty("subscriptionId", out var sub) ? sub.GetString() ?? "" : "";
                    lock (_highestSeq)
                    {
                        if (_highestSeq.TryGetValue(subscription, out var highest) && n < highest) _outOfOrder++;
                        else _highestSeq[subscription] = n;
                    }
                }
            }
            Interlocked.Increment(ref _distinct);
        }

        /// <summary>Completes with the arrival timestamp of the first notification carrying <paramref name="seq"/>.</summary>
        public TaskCompletionSource<long> Waiter(long seq) => _seq.GetOrAdd(seq, _ => new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously));

        public int SeqReceived(long from, long to) => _seq.Count(p => p.Key >= from && p.Key <= to && p.Value.Task.IsCompletedSuccessfully);

        /// <summary>Waits until <paramref name="count"/> notified entities arrived (a notification may carry several).</summary>
        public async Task<bool> WaitForEntitiesAsync(int count, TimeSpan timeout, CancellationToken cancellationToken)
        {
            var clock = Stopwatch.StartNew();
            while (Entities < count)
            {
                if (clock.Elapsed > timeout) return false;
                await Task.Delay(5, cancellationToken);
            }
            return true;
        }
    }
}
