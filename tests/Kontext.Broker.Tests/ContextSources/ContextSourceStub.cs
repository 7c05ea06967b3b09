using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kontext.Broker.Tests.ContextSources;

/// <summary>A context source on 127.0.0.1 (free port) that records what it is sent and answers as told: status, body, delay.</summary>
public sealed class ContextSourceStub : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<StubRequest> _requests = new();

    private ContextSourceStub(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = "";
    public int Status { get; set; } = 200;
    public string Body { get; set; } = "[]";
    public TimeSpan Delay { get; set; }
    public IReadOnlyList<StubRequest> Requests => _requests.ToList();

    public static async Task<ContextSourceStub> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var stub = new ContextSourceStub(app);
        app.Run(stub.AnswerAsync);
        await app.StartAsync();
        stub.BaseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return stub;
    }

    private async Task AnswerAsync(HttpContext http)
    {
        var body = await new StreamReader(http.Request.Body).ReadToEndAsync();
        _requests.Enqueue(new StubRequest(http.Request.Method, http.Request.Path + http.Request.QueryString,
            http.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), body));
        if (Delay > TimeSpan.Zero)
        {
            try { await Task.Delay(Delay, http.RequestAborted); } catch (OperationCanceledException) { return; }
        }
        http.Response.StatusCode = Status;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(Body);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

public sealed record StubRequest(string Method, string PathAndQuery, IReadOnlyDictionary<string, string> Headers, string Body);
