using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Formats;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;

namespace Kontext.Ngsi.Tests;

/// <summary>An in-memory document loader: URL → value of the document's @context; counts every call.</summary>
internal sealed class FakeContextLoader : IContextDocumentLoader
{
    private readonly Dictionary<string, JsonNode?> _documents;

    public FakeContextLoader(Dictionary<string, JsonNode?>? documents = null) =>
        _documents = documents ?? new Dictionary<string, JsonNode?>(StringComparer.Ordinal);

    public Dictionary<string, int> Calls { get; } = new(StringComparer.Ordinal);
    public int TotalCalls => Calls.Values.Sum();

    public FakeContextLoader Serve(string url, string contextJson)
    {
        _documents[url] = JsonNode.Parse(contextJson);
        return this;
    }

    public FakeContextLoader Serve(string url, JsonNode? context)
    {
        _documents[url] = context;
        return this;
    }

    public ValueTask<JsonNode?> LoadContextAsync(string url, CancellationToken cancellationToken)
    {
        Calls[url] = Calls.GetValueOrDefault(url) + 1;
        if (!_documents.TryGetValue(url, out var context))
            throw new NgsiException(NgsiError.LdContextNotAvailable($"no document at {url}"));
        return ValueTask.FromResult(context?.DeepClone());
    }
}

/// <summary>Finds tests/fixtures in the repository (the directory holding Broker.sln): reference data with sources and licences in its READMEs.</summary>
internal static class Fixtures
{
    public static string Root
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !System.IO.File.Exists(Path.Combine(dir.FullName, "Broker.sln"))) dir = dir.Parent;
            if (dir is null) throw new InvalidOperationException("Broker.sln not found above " + AppContext.BaseDirectory);
            return Path.Combine(dir.FullName, "tests", "fixtures");
        }
    }

    public static string File(params string[] relative) => Path.Combine([Root, .. relative]);
}

internal static class T
{
    public const string NgsiNs = "https://uri.etsi.org/ngsi-ld/";
    public const string DefaultVocab = "https://uri.etsi.org/ngsi-ld/default-context/";
    public const string Ex = "http://example.org/";

    public static JsonObject Obj(string json) => JsonNode.Parse(json)!.AsObject();

    public static JsonLdContext Context(string? contextJson, FakeContextLoader? loader = null) =>
        contextJson is null
            ? ContextProcessor.Core
            : new ContextProcessor(loader ?? new FakeContextLoader()).ProcessAsync(JsonNode.Parse(contextJson), default).AsTask().GetAwaiter().GetResult();

    /// <summary>A user context used throughout the model tests.</summary>
    public const string UserContextJson = """
        {
          "ex": "http://example.org/",
          "Vehicle": "ex:Vehicle",
          "speed": "ex:speed",
          "name": "ex:name",
          "owner": "ex:owner",
          "Person": "ex:Person",
          "category": "ex:category",
          "Sedan": "ex:Sedan",
          "Truck": "ex:Truck",
          "accuracy": "ex:accuracy",
          "config": "ex:config",
          "readings": "ex:readings",
          "fleet": "ex:fleet",
          "area": "ex:area",
          "temperature": "ex:temperature"
        }
        """;

    private static JsonLdContext? _user;
    public static JsonLdContext User => _user ??= Context(UserContextJson);

    public static string Iri(string localName) => Ex + localName;

    public static void ShouldBeBadRequestData(this Action action) =>
        action.Should().Throw<NgsiException>().Which.Error.Type.Should().EndWith("BadRequestData");

    public static async Task ShouldBeBadRequestDataAsync(this Func<Task> action) =>
        (await action.Should().ThrowAsync<NgsiException>()).Which.Error.Type.Should().EndWith("BadRequestData");

    public static Entity Parse(string json, JsonLdContext? context = null, ParseMode mode = ParseMode.Full) =>
        EntityParser.ParseEntity(Obj(json), context ?? User, mode);

    public static JsonObject Render(Entity entity, JsonLdContext context, RenderOptions options)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream)) new EntityRenderer(context, options).WriteEntity(writer, entity);
        return JsonNode.Parse(stream.ToArray())!.AsObject();
    }
}
