using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Kontext.Ngsi.JsonLd;

/// <summary>
/// The NGSI-LD core @context, bundled so the broker never needs the network for it (air-gapped sites).
/// Every published core-context URL, any version and the unversioned one, is recognised as the core context.
/// </summary>
public static partial class CoreContext
{
    public const string V18Url = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld";
    public const string V19Url = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld";
    public const string DefaultVocab = "https://uri.etsi.org/ngsi-ld/default-context/";
    public const string NgsiLdNamespace = "https://uri.etsi.org/ngsi-ld/";

    // http(s)://uri.etsi.org/ngsi-ld/[v1/]ngsi-ld-core-context[-vX.Y[.Z]].jsonld
    [GeneratedRegex(@"^https?://uri\.etsi\.org/ngsi-ld/(v\d+(\.\d+)*/)?ngsi-ld-core-context(-v\d+(\.\d+)*)?\.jsonld$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex CoreUrlPattern();

    public static bool IsCoreContextUrl(string url) => CoreUrlPattern().IsMatch(url);

    private static readonly Lazy<JsonObject> V18 = new(() => Load("ngsi-ld-core-context-v1.8.jsonld"));
    private static readonly Lazy<JsonObject> V19 = new(() => Load("ngsi-ld-core-context-v1.9.jsonld"));

    /// <summary>The v1.8 core @context object (the floor of what we serve).</summary>
    public static JsonObject V18Terms => V18.Value;

    /// <summary>The v1.9 core @context object: a superset of v1.8's terms, used for expansion and compaction.</summary>
    public static JsonObject V19Terms => V19.Value;

    /// <summary>The raw bundled document for a version ("1.8" or "1.9"), for serving it back.</summary>
    public static string Document(string version)
    {
        using var stream = OpenResource(version == "1.9" ? "ngsi-ld-core-context-v1.9.jsonld" : "ngsi-ld-core-context-v1.8.jsonld");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private static JsonObject Load(string file)
    {
        using var stream = OpenResource(file);
        var doc = JsonNode.Parse(stream)!.AsObject();
        return doc["@context"]!.AsObject();
    }

    private static Stream OpenResource(string file) =>
        typeof(CoreContext).Assembly.GetManifestResourceStream("Kontext.CoreContexts." + file)
        ?? throw new InvalidOperationException($"core context resource {file} missing from the build");
}
