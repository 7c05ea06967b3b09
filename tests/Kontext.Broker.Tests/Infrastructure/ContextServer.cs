using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kontext.Broker.Tests.Infrastructure;

/// <summary>A real HTTP server on 127.0.0.1 (free port) serving @context documents, with fault injection.</summary>
public sealed class ContextServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, (string Body, string ContentType, int Status, TimeSpan Delay)> _documents = new();
    private readonly ConcurrentDictionary<string, (string Location, int Status)> _redirects = new();
    private readonly ConcurrentDictionary<string, int> _hits = new();

    private ContextServer(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = "";

    public static async Task<ContextServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var server = new ContextServer(app);
        app.Run(server.ServeAsync);
        await app.StartAsync();
        server.BaseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return server;
    }

    public string Serve(string path, string body, string contentType = "application/ld+json", int status = 200, TimeSpan delay = default)
    {
        _documents[path] = (body, contentType, status, delay);
        return BaseUrl + path;
    }

    /// <summary>Answers <paramref name="path"/> with a redirect to <paramref name="location"/>.</summary>
    public string Redirect(string path, string location, int status = 302)
    {
        _redirects[path] = (location, status);
        return BaseUrl + path;
    }

    public int Hits(string path) => _hits.GetValueOrDefault(path);

    /// <summary>Requests received on any path.</summary>
    public int TotalHits => _hits.Values.Sum();

    private async Task ServeAsync(HttpContext http)
    {
        var path = http.Request.Path.Value ?? "";
        _hits.AddOrUpdate(path, 1, (_, n) => n + 1);
        if (_redirects.TryGetValue(path, out var redirect))
        {
            http.Response.StatusCode = redirect.Status;
            http.Response.Headers.Location = redirect.Location;
            return;
        }
        if (!_documents.TryGetValue(path, out var doc))
        {
            http.Response.StatusCode = 404;
            return;
        }
        if (doc.Delay > TimeSpan.Zero)
        {
            try { await Task.Delay(doc.Delay, http.RequestAborted); } catch (OperationCanceledException) { return; }
        }
        http.Response.StatusCode = doc.Status;
        http.Response.ContentType = doc.ContentType;
        await http.Response.WriteAsync(doc.Body);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
