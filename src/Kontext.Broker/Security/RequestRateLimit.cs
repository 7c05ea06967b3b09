using System.Globalization;
using System.Threading.RateLimiting;
using Kontext.Broker.Hosting;
using Kontext.Broker.Http;
using Microsoft.AspNetCore.RateLimiting;

namespace Kontext.Broker.Security;

/// <summary>
/// Rate limits on the NGSI-LD API (Kontext:Limits:RequestsPerSecond, RequestBurst): one token bucket per principal, or
/// per client address for anonymous callers and refused credentials; 429 with Retry-After beyond. Off (0) by default.
/// Behind a reverse proxy every anonymous caller shares the proxy's address.
/// </summary>
internal static class RequestRateLimit
{
    public static void Configure(RateLimiterOptions limiter, LimitOptions limits)
    {
        var perSecond = limits.RequestsPerSecond;
        var burst = limits.RequestBurst > 0 ? limits.RequestBurst : Math.Max(1, perSecond);
        limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
        {
            if (perSecond <= 0 || !http.Request.Path.StartsWithSegments("/ngsi-ld")) return RateLimitPartition.GetNoLimiter("");
            return RateLimitPartition.GetTokenBucketLimiter(PartitionOf(http), _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = burst,
                TokensPerPeriod = perSecond,
                ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                QueueLimit = 0,
                AutoReplenishment = true,
            });
        });
        limiter.OnRejected = async (context, _) =>
        {
            var http = context.HttpContext;
            var seconds = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)) : 1;
            http.Response.OnStarting(() =>
            {
                http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                return Task.CompletedTask;
            });
            await NgsiProblem.WriteAsync(http, AccessProblems.TooManyRequests(
                $"More than {perSecond} requests per second (burst {burst}) from this caller; retry after {seconds} s"));
        };
    }

    /// <summary>The principal's name when one was identified, else the client's address.</summary>
    public static string PartitionOf(HttpContext http) =>
        http.User.Identity is { IsAuthenticated: true, Name: { } name } ? "principal:" + name
            : "address:" + (http.Connection.RemoteIpAddress?.ToString() ?? "unknown");
}
