using System.Security.Cryptography;
using System.Text;
using Kontext.Broker.Hosting;

namespace Kontext.Broker.Security;

/// <summary>
/// The configured API keys (Kontext:Auth:ApiKeys:{name}), checked once at start-up. Keys are looked up by their SHA-256
/// digest, so the time a lookup takes tells nothing about how close a guess came.
/// </summary>
internal sealed class ApiKeyRing
{
    private readonly Dictionary<string, Grant> _byDigest = new(StringComparer.Ordinal);

    public ApiKeyRing(AuthOptions options)
    {
        foreach (var (name, key) in options.ApiKeys)
        {
            var where = $"Kontext:Auth:ApiKeys:{name}";
            if (string.IsNullOrWhiteSpace(key.Key)) throw new InvalidOperationException($"{where}:Key is empty");
            if (key.Tenants.Count == 0) throw new InvalidOperationException($"{where}:Tenants is empty (name tenants, {Grant.DefaultTenant} or *)");
            var roles = Roles.None;
            foreach (var role in key.Roles)
                roles |= Grant.ParseRole(role) ?? throw new InvalidOperationException($"{where}:Roles has '{role}' (read, write or admin)");
            if (roles == Roles.None) throw new InvalidOperationException($"{where}:Roles is empty (read, write or admin)");
            if (!_byDigest.TryAdd(Digest(key.Key), new Grant("apikey:" + name, roles, key.Tenants.Select(t => t.Trim()).ToHashSet(StringComparer.Ordinal))))
                throw new InvalidOperationException($"{where}:Key is the same as another key's");
        }
    }

    public int Count => _byDigest.Count;

    /// <summary>The grant of the presented key, or null when no configured key matches.</summary>
    public Grant? Find(string presented) => presented.Length == 0 ? null : _byDigest.GetValueOrDefault(Digest(presented));

    private static string Digest(string secret) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
}
