using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Broker.Hosting;
using Kontext.Broker.Http;
using Kontext.Ngsi.Model;
using Microsoft.Extensions.Options;

namespace Kontext.Broker.ContextSources;

/// <summary>
/// This broker as a context source (clause 5.2.40): the alias that names it in Via chains, per tenant, and how long it has
/// been up. The alias is stable across restarts: configured (Kontext:Federation:ContextSourceAlias) or derived from the
/// storage location, so instances sharing one MongoDB are one source and two brokers on different data are two.
/// </summary>
internal sealed class ContextSourceIdentity
{
    private readonly string _base;
    private readonly DateTimeOffset _startedAt = DateTimeOffset.UtcNow;

    public ContextSourceIdentity(IOptions<KontextOptions> kontext, IOptions<FederationOptions> federation)
    {
        var storage = kontext.Value.Storage;
        _base = federation.Value.ContextSourceAlias is { Length: > 0 } configured
            ? configured
            : "urn:ngsi-ld:ContextSource:kontext-" + Hash(storage.Provider.Equals("sqlite", StringComparison.OrdinalIgnoreCase)
                ? Environment.MachineName + "|" + Path.GetFullPath(storage.DataDirectory)
                : storage.Mongo.ConnectionString ?? "");
    }

    /// <summary>The alias of a tenant of this broker (the default tenant has the bare alias).</summary>
    public string Alias(string? tenant) => tenant is null ? _base : _base + ":" + Uri.EscapeDataString(tenant);

    public TimeSpan Uptime => DateTimeOffset.UtcNow - _startedAt;

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];

    /// <summary>Retrieve Context Source Identity Information: GET /info/sourceIdentity (clause 5.15.1). Needs no existing tenant.</summary>
    public static async Task HandleAsync(NgsiRequest request, ContextSourceIdentity identity)
    {
        var http = request.Http;
        var alias = identity.Alias(request.Tenant);
        var output = new JsonObject
        {
            ["id"] = "urn:ngsi-ld:ContextSourceIdentity:" + Hash(alias),
            ["type"] = "ContextSourceIdentity",
            ["contextSourceAlias"] = alias,
            ["contextSourceUptime"] = Duration(identity.Uptime),
            ["contextSourceTimeAt"] = Validate.Format(DateTimeOffset.UtcNow),
            ["contextSourceExtras"] = new JsonObject { ["broker"] = "Kontext", ["tenant"] = request.Tenant },
        };
        if (await NgsiResponse.PrepareAsync(request) is { } bodyContext) output["@context"] = bodyContext;
        await using var writer = new Utf8JsonWriter(http.Response.BodyWriter, NgsiJson.WriterOptions);
        output.WriteTo(writer);
        await writer.FlushAsync(http.RequestAborted);
    }

    /// <summary>An ISO 8601 duration with days, hours, minutes and seconds to the millisecond, e.g. P2DT3H4M5.678S.</summary>
    public static string Duration(TimeSpan span)
    {
        var text = new StringBuilder("P");
        if (span.Days > 0) text.Append(span.Days).Append('D');
        text.Append('T');
        if (span.Hours > 0) text.Append(span.Hours).Append('H');
        if (span.Minutes > 0) text.Append(span.Minutes).Append('M');
        text.Append((span.Seconds + span.Milliseconds / 1000.0).ToString("0.###", CultureInfo.InvariantCulture)).Append('S');
        return text.ToString();
    }
}
