using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Kontext.Broker.Tests.Infrastructure;

/// <summary>A real HTTP receiver on 127.0.0.1 that records notifications; it can answer errors or be slow on demand.</summary>
public sealed class NotificationReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedNotification> _received = new();
    private readonly SemaphoreSlim _arrived = new(0);
    private readonly ConcurrentDictionary<string, byte> _seenIds = new();

    private NotificationReceiver(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }
    public string Url => $"http://127.0.0.1:{Port}/notify";
    private int _duplicates;

    /// <summary>Repeated deliveries of an already received notification (allowed by at-least-once delivery).</summary>
    public int Duplicates => _duplicates;
    public int FailWithStatus { get; set; }

    /// <summary>Notifications this predicate picks are refused with 503 (the others are taken).</summary>
    public Func<JsonObject, bool>? RefuseWhen { get; set; }

    /// <summary>Every request that reached the receiver, refused ones included.</summary>
    public int Attempts => _attempts;
    private int _attempts;
    public TimeSpan Delay { get; set; }

    /// <summary>When set, each notification is recorded, then its answer waits for this task (a receiver slow to answer).</summary>
    public Task? HoldAnswer { get; set; }
    public IReadOnlyList<ReceivedNotification> Received => _received.ToList();

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static async Task<NotificationReceiver> StartAsync(int? port = null)
    {
        var chosen = port ?? FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{chosen}");
        var app = builder.Build();
        var receiver = new NotificationReceiver(app, chosen);
        app.Run(receiver.HandleAsync);
        await app.StartAsync();
        return receiver;
    }

    private async Task HandleAsync(HttpContext http)
    {
        if (Delay > TimeSpan.Zero)
        {
            try { await Task.Delay(Delay, http.RequestAborted); } catch (OperationCanceledException) { return; }
        }
        var body = await new StreamReader(http.Request.Body).ReadToEndAsync();
        Interlocked.Increment(ref _attempts);
        if (FailWithStatus != 0)
        {
            http.Response.StatusCode = FailWithStatus;
            return;
        }
        var headers = http.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var notification = JsonNode.Parse(body)!.AsObject();
        if (RefuseWhen?.Invoke(notification) == true)
        {
            http.Response.StatusCode = 503;
            return;
        }
        // Delivery is at-least-once: a retry after a lost answer repeats the same notification id. Count each id once.
        if (_seenIds.TryAdd(notification["id"]?.GetValue<string>() ?? Guid.NewGuid().ToString(), 0))
        {
            _received.Enqueue(new ReceivedNotification(notification, headers, http.Request.ContentType ?? ""));
            _arrived.Release();
        }
        else Interlocked.Increment(ref _duplicates);
        if (HoldAnswer is { } hold)
        {
            try { await hold.WaitAsync(http.RequestAborted); } catch (OperationCanceledException) { return; }
        }
        http.Response.StatusCode = 200;
    }

    /// <summary>Waits until at least <paramref name="count"/> notifications arrived (bounded by <paramref name="timeout"/>).</summary>
    public async Task<IReadOnlyList<ReceivedNotification>> WaitForAsync(int count, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (_received.Count < count && DateTime.UtcNow < deadline)
            await _arrived.WaitAsync(TimeSpan.FromMilliseconds(100));
        return Received;
    }

    /// <summary>
    /// Waits until the notifications that arrived carry at least <paramref name="count"/> entities in their `data`, and
    /// returns those entities in arrival order: a notification may carry several changes of different entities.
    /// </summary>
    public async Task<IReadOnlyList<JsonObject>> WaitForEntitiesAsync(int count, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (NotifiedEntities.Count < count && DateTime.UtcNow < deadline)
            await _arrived.WaitAsync(TimeSpan.FromMilliseconds(100));
        return NotifiedEntities;
    }

    /// <summary>The entities of every notification received so far, in arrival order.</summary>
    public IReadOnlyList<JsonObject> NotifiedEntities => _received.SelectMany(n => n.Data.Select(e => e!.AsObject())).ToList();

    /// <summary>Gives late notifications a moment, for tests asserting that nothing (more) arrives.</summary>
    public async Task<IReadOnlyList<ReceivedNotification>> SettleAsync(TimeSpan? quiet = null)
    {
        await Task.Delay(quiet ?? TimeSpan.FromMilliseconds(1500));
        return Received;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

public sealed record ReceivedNotification(JsonObject Body, IReadOnlyDictionary<string, string> Headers, string ContentType)
{
    public JsonArray Data => Body["data"]!.AsArray();
    public JsonObject Entity => Data[0]!.AsObject();
}
