using System.Diagnostics;
using Microsoft.Extensions.Options;

namespace Kontext.Broker.Operations;

/// <summary>
/// Every answer carries X-Request-Id: the caller's own when it sent a usable one (a proxy's or a gateway's id, so one id
/// follows the request through every log), a new one otherwise. The id becomes HttpContext.TraceIdentifier, which the
/// ProblemDetails writer puts in each error body as "requestId", and a log scope (RequestId) around everything the
/// request logs. One access-log line per request closes it (category Kontext.Access; silence it with
/// Logging:LogLevel:Kontext.Access=Warning).
/// </summary>
internal sealed class RequestCorrelation(RequestDelegate next, ILoggerFactory loggers, IOptionsMonitor<LoggerFilterOptions> filters)
{
    public const string Header = "X-Request-Id";
    private const int MaxIncomingLength = 128;
    private readonly ILogger _access = loggers.CreateLogger("Kontext.Access");
    private readonly ILogger _scopes = loggers.CreateLogger("Kontext.Request");

    public async Task InvokeAsync(HttpContext http)
    {
        var id = Usable(http.Request.Headers[Header].ToString()) ?? NewId();
        http.TraceIdentifier = id;
        // Set as the answer starts: an error body clears the headers written before it.
        http.Response.OnStarting(static state =>
        {
            var context = (HttpContext)state;
            context.Response.Headers[Header] = context.TraceIdentifier;
            return Task.CompletedTask;
        }, http);
        var started = Stopwatch.GetTimestamp();
        // Scopes are captured only when a log provider writes them (Hosting.RequestDiagnostics): no scope state otherwise.
        using var scope = filters.CurrentValue.CaptureScopes ? _scopes.BeginScope(new KeyValuePair<string, object>[] { new("RequestId", id) }) : null;
        try
        {
            await next(http);
        }
        finally
        {
            if (_access.IsEnabled(LogLevel.Information))
                _access.LogInformation("{Method} {Path} {StatusCode} {ElapsedMs:0.0} ms {RequestId} {Tenant}",
                    http.Request.Method, http.Request.Path.Value, http.Response.StatusCode,
                    Stopwatch.GetElapsedTime(started).TotalMilliseconds, id, Tenant(http));
        }
    }

    /// <summary>An incoming id is kept when it is short printable ASCII without spaces; anything else is replaced, never echoed.</summary>
    internal static string? Usable(string value)
    {
        if (value.Length is 0 or > MaxIncomingLength) return null;
        foreach (var c in value)
            if (c is <= ' ' or > '~' or '"' or ',' or ';' or '\\') return null;
        return value;
    }

    private static string Tenant(HttpContext http)
    {
        var tenant = http.Request.Headers[Http.NgsiRequest.TenantHeader].ToString().Trim();
        return tenant.Length == 0 ? "-" : Kontext.Ngsi.Model.Validate.IsTenantName(tenant) ? tenant : "(invalid)";
    }

    // A new id is 32 lowercase hex digits, as Guid.NewGuid().ToString("N") gave: a random prefix drawn once per process
    // and a counter. Unique like a Guid without its 16-byte read of /dev/urandom, a system call per request on Linux.
    private static readonly string IdPrefix = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));
    private static long _issued;

    internal static string NewId() => string.Create(32, Interlocked.Increment(ref _issued), static (id, count) =>
    {
        IdPrefix.CopyTo(id);
        count.TryFormat(id[16..], out _, "x16", System.Globalization.CultureInfo.InvariantCulture);
    });
}
