using System.Text.Json.Nodes;

namespace Kontext.Ngsi.JsonLd;

/// <summary>Dereferences a remote @context URL to the value of the document's <c>@context</c> member.</summary>
public interface IContextDocumentLoader
{
    /// <exception cref="Errors.NgsiException">LdContextNotAvailable when the document cannot be had.</exception>
    ValueTask<JsonNode?> LoadContextAsync(string url, CancellationToken cancellationToken);
}
