using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Kontext.Broker.Hosting;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Storage;
using Microsoft.Extensions.Options;

namespace Kontext.Broker.Contexts;

/// <summary>The kinds of @context the broker keeps (clause 5.13): added by a client, created for an inline context, fetched.</summary>
internal enum ContextKind { Hosted, ImplicitlyCreated, Cached }

/// <summary>
/// Hosted @contexts: the ones added through /jsonldContexts (kind Hosted) and the inline ones (objects, arrays) the
/// broker names in a Link header or a subscription's jsonldContext (kind ImplicitlyCreated, clause 5.13). Each belongs to
/// a tenant: its id is the tenant's tag and a hash of the document (<c>{tag}-{hash}</c>; the default tenant has no tag),
/// so the same context gets the same URL within a tenant and another URL in another tenant. Only the owner lists and
/// deletes it, and a request naming another tenant does not get it served; a request naming no tenant can read it,
/// because JSON-LD processors dereference Link headers without tenant headers. Caps: size per document (413), count and
/// bytes per tenant (403), both kinds together.
/// </summary>
internal sealed class HostedContexts(IEntityStorage storage, IOptions<KontextOptions> options)
{
    public const string Prefix = "hosted:", ImplicitPrefix = "implicit:";
    private const int HashLength = 32, TagLength = 12;
    private readonly ContextOptions _options = options.Value.Contexts;
    // Keys known to be stored, so naming an inline context in a Link header costs no store round trip.
    private readonly BoundedCache<bool> _known = new(10_000, long.MaxValue);

    /// <summary>The store key prefix of a kind of hosted context.</summary>
    public static string PrefixOf(ContextKind kind) => kind == ContextKind.ImplicitlyCreated ? ImplicitPrefix : Prefix;

    /// <summary>The kind and id of a store key holding a hosted context; null for other keys (cached remote documents).</summary>
    public static (ContextKind Kind, string Id)? FromKey(string key) =>
        key.StartsWith(Prefix, StringComparison.Ordinal) ? (ContextKind.Hosted, key[Prefix.Length..])
        : key.StartsWith(ImplicitPrefix, StringComparison.Ordinal) ? (ContextKind.ImplicitlyCreated, key[ImplicitPrefix.Length..])
        : null;

    /// <summary>Stores the context for <paramref name="tenant"/> (unless it is there already) and returns its id.</summary>
    public async Task<string> RegisterAsync(string? tenant, JsonNode context, ContextKind kind, CancellationToken cancellationToken)
    {
        var (document, bytes) = Document(context);
        var id = Tag(tenant) + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(document)))[..HashLength];
        var key = PrefixOf(kind) + id;
        if (_known.TryGet(key, out _)) return id;
        if (await storage.Contexts.GetAsync(key, cancellationToken) is null)
        {
            var owned = (await storage.Contexts.ListAsync(cancellationToken))
                .Where(e => FromKey(e.Key) is { } hosted && Owns(tenant, hosted.Id))
                .ToList();
            if (owned.Count >= _options.MaxHostedPerTenant)
                throw new NgsiException(NgsiError.LimitExceeded(
                    $"The tenant already hosts {owned.Count} @contexts, the most allowed (Kontext:Contexts:MaxHostedPerTenant); delete unused ones from /ngsi-ld/v1/jsonldContexts"));
            var used = owned.Sum(e => e.Bytes);
            if (used + bytes > _options.MaxHostedBytesPerTenant)
                throw new NgsiException(NgsiError.LimitExceeded(
                    $"The tenant's hosted @contexts would take {used + bytes} bytes, more than allowed ({_options.MaxHostedBytesPerTenant}, Kontext:Contexts:MaxHostedBytesPerTenant); delete unused ones from /ngsi-ld/v1/jsonldContexts"));
            await storage.Contexts.PutAsync(key, document, cancellationToken);
        }
        _known.Set(key, true, 1);
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

    /// <summary>Deletes a hosted context of <paramref name="tenant"/>, of either kind; false when the tenant has none with that id.</summary>
    public async Task<bool> DeleteAsync(string? tenant, string id, CancellationToken cancellationToken)
    {
        if (!Owns(tenant, id)) return false;
        _known.Remove(Prefix + id);
        _known.Remove(ImplicitPrefix + id);
        var hosted = await storage.Contexts.DeleteAsync(Prefix + id, cancellationToken);
        var implicitly = await storage.Contexts.DeleteAsync(ImplicitPrefix + id, cancellationToken);
        return hosted || implicitly;
    }

    /// <summary>The document ({"@context": ...}) of a hosted id, whoever owns it; null when there is none.</summary>
    public async Task<string?> GetAsync(string id, CancellationToken cancellationToken) =>
        await FindAsync(id, cancellationToken) is { } found ? found.Document : null;

    /// <summary>The stored entry of a hosted id (added ones first): its kind, document and when it was stored; null when there is none.</summary>
    public async Task<(ContextKind Kind, string Document, DateTimeOffset StoredAt)?> FindAsync(string id, CancellationToken cancellationToken)
    {
        if (!IsHostedId(id)) return null;
        foreach (var kind in new[] { ContextKind.Hosted, ContextKind.ImplicitlyCreated })
        {
            if (await storage.Contexts.GetAsync(PrefixOf(kind) + id, cancellationToken) is not { } document) continue;
            var storedAt = (await storage.Contexts.ListAsync(cancellationToken)).FirstOrDefault(e => e.Key == PrefixOf(kind) + id)?.StoredAt ?? DateTimeOffset.UtcNow;
            return (kind, document, storedAt);
        }
        return null;
    }

    /// <summary>True when <paramref name="id"/> is a hosted id of <paramref name="tenant"/>.</summary>
    public static bool Owns(string? tenant, string id) => IsHostedId(id) && id.Length == Tag(tenant).Length + HashLength && id.StartsWith(Tag(tenant), StringComparison.Ordinal);

    /// <summary>True when <paramref name="id"/> has the form of a hosted id (of any tenant).</summary>
    public static bool IsHostedId(string id) =>
        (id.Length == HashLength || (id.Length == TagLength + 1 + HashLength && id[TagLength] == '-'))
        && id.All(c => char.IsAsciiHexDigitLower(c) || c == '-');

    // A tag, not the name: hosted URLs get passed around, tenant names need not be.
    private static string Tag(string? tenant) => tenant is null
        ? ""
        : Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("tenant\n" + tenant)))[..TagLength] + "-";
}
