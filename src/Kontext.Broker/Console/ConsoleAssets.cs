using System.IO.Compression;
using System.Reflection;
using System.Security.Cryptography;

namespace Kontext.Broker.WebConsole; // not "Console": that would shadow System.Console for all of Kontext.Broker.*

/// <summary>One file of the console as served: its bytes, gzip form and validator, computed once.</summary>
internal sealed record ConsoleAsset(string ContentType, byte[] Raw, byte[] Gzip, string ETag);

/// <summary>
/// The console's files, embedded in the broker's assembly (Console/assets/**): they travel inside Kontext.Broker.dll, so
/// a `dotnet publish` output or an air-gapped image serves them with nothing else on disk. Compressed once at start-up.
/// </summary>
internal sealed class ConsoleAssets
{
    public const string ResourcePrefix = "Kontext.Console.";

    private readonly Dictionary<string, ConsoleAsset> _files = new(StringComparer.Ordinal);

    public ConsoleAssets(Assembly assembly)
    {
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            Add(name[ResourcePrefix.Length..].Replace('\\', '/'), copy.ToArray());
        }
    }

    public IReadOnlyDictionary<string, ConsoleAsset> Files => _files;

    public ConsoleAsset? Find(string path) => _files.GetValueOrDefault(path);

    /// <summary>Adds (or replaces) a file: the embedded ones, and the generated config.json.</summary>
    public void Add(string path, byte[] raw)
    {
        using var gz = new MemoryStream();
        using (var zip = new GZipStream(gz, CompressionLevel.SmallestSize, leaveOpen: true)) zip.Write(raw);
        var etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(raw))[..16] + "\"";
        _files[path] = new ConsoleAsset(ContentTypeOf(path), raw, gz.ToArray(), etag);
    }

    /// <summary>Total gzip bytes of what a first load fetches (every file: the console loads all its modules at once).</summary>
    public long CompressedBytes => _files.Values.Sum(f => (long)f.Gzip.Length);

    private static string ContentTypeOf(string path) => Path.GetExtension(path) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".json" => "application/json; charset=utf-8",
        ".svg" => "image/svg+xml",
        _ => "application/octet-stream",
    };
}
