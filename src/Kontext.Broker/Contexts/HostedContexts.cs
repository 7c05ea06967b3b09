using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Kontext.Broker.Hosting;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Storage;
using Microsoft.Extensions.Options;

namespace Kontext.Broker.Contexts;

/// <summary>
/// Hosted @contexts: the ones added through /jsonldContexts and the inline ones (objects, arrays) a response names in a
/// Link header. Each belongs to a tenant: its id is the tenant's tag and a hash of the document
/// (<c>{tag}-{hash}</c>; the default tenant has no tag), so the same context gets the same URL within a tenant and
/// another URL in another tenant. Only the owner lists and deletes it; anyone holding the URL can read it, because
/// JSON-LD processors dereference Link headers without tenant headers. Caps: size per document (413), count and bytes
/// per tenant (403).
/// </summary>
internal sealed class HostedContexts(IEntityStorage storage, IOptions<KontextOptions> options)
{
    public const string Prefix = "hosted:";
    private const int HashLength = 32, TagLength = 12;
    private readonly ContextOptions _options = options.Value.Contexts;
    // Ids known to be stored, so naming an inline context in a Link header costs no store round trip.
    private readonly BoundedCache<bool> _known = new(10_000, long.MaxValue);

    /// <summary>Stores the context for <paramref name="tenant"/> (unless it is there already) and returns its id.</summary>
    public async Task<string> RegisterAsync(string? tenant, JsonNode context, CancellationToken cancellationToken)
    {
        var (document, bytes) = Document(context);
        var id = Tag(tenant) + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(document)))[..HashLength];
        if (_known.TryGet(id, out _)) return id;
        if (await storage.Contexts.GetAsync(Prefix + id, cancellationToken) is null)
        {
            var owned = (await storage.Contexts.ListAsync(cancellationToken))
                .Where(e => e.Key.StartsWith(Prefix, StringComparison.Ordinal) && Owns(tenant, e.Key[Prefix.Length..]))
                .ToList();
            if (owned.Count >= _options.MaxHostedPerTenant)
                throw new NgsiException(NgsiError.LimitExceeded(
                    $"The tenant already hosts {owned.Count} @contexts, the most allowed (Kontext:Contexts:MaxHostedPerTenant); delete unused ones from /ngsi-ld/v1/jsonldContexts"));
            var used = owned.Sum(e => e.Bytes);
            if (used + bytes > _options.MaxHostedBytesPerTenant)
                throw new NgsiException(NgsiError.LimitExceeded(
                    $"The tenant's hosted @contexts would take {used + bytes} bytes, more than allowed ({_options.MaxHostedBytesPerTenant}, Kontext:Contexts:MaxHostedBytesPerTenant); delete unused ones from /ngsi-ld/v1/jsonldContexts"));
            await storage.Contexts.PutAsync(Prefix + id, document, cancellationToken);
        }
        _known.Set(id, true, 1);
        return id;
    }

    /// <summary>The document that would be hosted for <paramref name="context"/>; 413 when it is larger than the cap.</summary>
    public (string Document, long Bytes) Document(JsonNode context)
    {
        var document = new JsonObject { ["@context"] = context.DeepClone() }.ToJsonString();
        var bytes = Encoding.UTF8.GetByteCount(document);
        if (bytes > _options.MaxDocumentBytes)
            throw new NgsiException(NgsiError.RequestEntityTooLarge(
                $"The @context document is {bytes} bytes; hosted @contexts are limited to {_options.MaxDocumentBytes} bytes (Kontext:Contexts:MaxDocumentBytes)"));
        return (document, bytes);
    }

    /// <summary>Deletes a hosted context of <paramref name="tenant"/>; false when the tenant has none with that id.</summary>
    public async Task<bool> DeleteAsync(string? tenant, string id, CancellationToken cancellationToken)
    {
        if (!Owns(tenant, id)) return false;
        _known.Remove(id);
        return await storage.Contexts.DeleteAsync(Prefix + id, cancellationToken);
    }

    /// <summary>The document ({"@context": ...}) of a hosted id, whoever owns it; null when there is none.</summary>
    public async Task<string?> GetAsync(string id, CancellationToken cancellationToken) =>
        IsHostedId(id) ? await storage.Contexts.GetAsync(Prefix + id, cancellationToken) : null;

    /// <summary>True when <paramref name="id"/> is a hosted id of <paramref name="tenant"/>.</summary>
    public static bool Owns(string? tenant, string id) => IsHostedId(id) && id.Length == Tag(tenant).Length + HashLength && id.StartsWith(Tag(tenant), StringComparison.Ordinal);

    private static bool IsHostedId(string id) =>
        (id.Length == HashLength || (id.Length == TagLength + 1 + HashLength && id[TagLength] == '-'))
        && id.All(c => char.IsAsciiHexDigitLower(c) || c == '-');

    // A tag, not the name: hosted URLs get passed around, tenant names need not be.
    private static string Tag(string? tenant) => tenant is null
        ? ""
        : Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("tenant\n" + tenant)))[..TagLength] + "-";
}
