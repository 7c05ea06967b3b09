using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Contexts;

/// <summary>
/// Inline @contexts (objects, arrays) get a stable URL on this broker, so a response with Accept application/json
/// can name them in a Link header. The id is a content hash: the same context always gets the same URL.
/// </summary>
internal sealed class HostedContexts(IEntityStorage storage)
{
    public const string Prefix = "hosted:";
    private readonly ConcurrentDictionary<string, string> _documents = new(StringComparer.Ordinal);

    public async Task<string> RegisterAsync(JsonNode context, CancellationToken cancellationToken)
    {
        var document = new JsonObject { ["@context"] = context.DeepClone() }.ToJsonString();
        var id = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(document)))[..32];
        if (_documents.TryAdd(id, document)) await storage.Contexts.PutAsync(Prefix + id, document, cancellationToken);
        return id;
    }

    public async Task<bool> DeleteAsync(string id, CancellationToken cancellationToken)
    {
        _documents.TryRemove(id, out _);
        return await storage.Contexts.DeleteAsync(Prefix + id, cancellationToken);
    }

    public async Task<string?> GetAsync(string id, CancellationToken cancellationToken)
    {
        if (_documents.TryGetValue(id, out var document)) return document;
        document = await storage.Contexts.GetAsync(Prefix + id, cancellationToken);
        if (document is not null) _documents.TryAdd(id, document);
        return document;
    }
}
