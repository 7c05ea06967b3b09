using Kontext.Adapters;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using Kontext.Broker.Hosting;
using Kontext.Ngsi.Errors;
using Microsoft.Extensions.Options;

namespace Kontext.Broker.Adapters;

/// <summary>
/// The gate of every ingest source: the per-source secret (in its configured header; anything else — no header, a wrong
/// secret, an unknown source or one of another kind — is 401), the payload size cap (413) and a per-source token bucket (429).
/// </summary>
public sealed class SourceGuard(IOptions<AdapterOptions> options)
{
    public const string UnauthorizedType = "urn:kontext:adapters:Unauthorized";
    public const string TooManyRequestsType = "urn:kontext:adapters:TooManyRequests";
    private readonly ConcurrentDictionary<string, TokenBucketRateLimiter> _buckets = new(StringComparer.OrdinalIgnoreCase);

    public static NgsiException Unauthorized(string detail) => new(new NgsiError(UnauthorizedType, 401, "Unauthorized", detail));

    /// <summary>The source's settings once its secret checks out.</summary>
    public AdapterSourceOptions Authenticate(HttpRequest request, string source, string kind)
    {
        if (!options.Value.Sources.TryGetValue(source, out var settings) || !string.Equals(settings.Kind, kind, StringComparison.OrdinalIgnoreCase)
            || string.IsNullOrEmpty(settings.Secret))
            throw Unauthorized($"Unknown {kind} source '{source}', or it has no secret configured");
        var presented = request.Headers[settings.Header].ToString();
        if (settings.Header.Equals("Authorization", StringComparison.OrdinalIgnoreCase) && presented.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            presented = presented["Bearer ".Length..].Trim();
        if (!Matches(presented, settings.Secret)) throw Unauthorized($"Missing or wrong secret in header {settings.Header}");
        return settings;
    }

    /// <summary>For sources authenticated by other means (MQTT): the settings of a configured source, whatever its kind.</summary>
    public AdapterSourceOptions Settings(string source) =>
        options.Value.Sources.TryGetValue(source, out var settings) ? settings : new AdapterSourceOptions();

    public static bool Matches(string presented, string secret) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    /// <summary>Takes one token from the source's bucket, or throws 429.</summary>
    public void Admit(string source, AdapterSourceOptions settings)
    {
        var bucket = _buckets.GetOrAdd(source, _ => new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(1, settings.RequestsPerMinute),
            TokensPerPeriod = Math.Max(1, settings.RequestsPerMinute),
            ReplenishmentPeriod = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
        using var lease = bucket.AttemptAcquire();
        if (!lease.IsAcquired)
            throw new NgsiException(new NgsiError(TooManyRequestsType, 429, "Too many requests", $"Source '{source}' exceeds {settings.RequestsPerMinute} uplinks per minute"));
    }

    /// <summary>Reads the body as UTF-8 text, at most <see cref="AdapterSourceOptions.MaxPayloadBytes"/> (413 beyond).</summary>
    public static async Task<string> ReadBodyAsync(HttpRequest request, AdapterSourceOptions settings, CancellationToken ct)
    {
        var max = settings.MaxPayloadBytes;
        if (request.ContentLength > max) throw TooLarge(max);
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > max) throw TooLarge(max);
            buffer.Write(chunk, 0, read);
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static NgsiException TooLarge(long max) => new(NgsiError.RequestEntityTooLarge($"The uplink exceeds {max} bytes"));
}
