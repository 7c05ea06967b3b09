using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Kontext.Broker.Hosting;
using Microsoft.Extensions.Options;

namespace Kontext.Broker.Ogc;

/// <summary>
/// GET /api.html: the API definition as a web page (the service-doc link /req/oas30/oas-definition-1 asks for), rendered
/// on the server from the same document as /api, self-contained (no script, nothing fetched from elsewhere).
/// </summary>
internal static class ApiDocumentation
{
    public static async Task GetAsync(HttpContext http, CollectionCatalog catalog, IOptions<KontextOptions> kontext)
    {
        var request = OgcRequest.Read(http, "GET /api.html", [], format: false);
        var store = await request.TenantStoreAsync();
        var definition = ApiDefinition.Build(request, await catalog.ListAsync(store, request.Aborted), kontext.Value.Auth);
        http.Response.ContentType = "text/html; charset=utf-8";
        await http.Response.WriteAsync(Render(definition, request.Url("/api")), request.Aborted);
    }

    public static string Render(JsonObject definition, string definitionUrl)
    {
        static string E(string? text) => WebUtility.HtmlEncode(text ?? "");
        var components = definition["components"]!["parameters"]!.AsObject();
        var html = new StringBuilder();
        var title = definition["info"]!["title"]!.GetValue<string>();
        html.Append($"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{E(title)}</title>")
            .Append("<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}td,th{border-bottom:1px solid #ccc;padding:.2em .5em;text-align:left}code{background:#eee}</style></head><body>")
            .Append($"<h1>{E(title)}</h1><p>{E(definition["info"]!["description"]!.GetValue<string>())}</p>")
            .Append($"<p>Machine-readable definition (OpenAPI {E(definition["openapi"]!.GetValue<string>())}): <a href=\"{E(definitionUrl)}\">{E(definitionUrl)}</a></p>");
        foreach (var (path, item) in definition["paths"]!.AsObject())
        {
            var get = item!["get"]!;
            html.Append($"<h2><code>GET {E(path)}</code></h2><p>{E(get["summary"]?.GetValue<string>())}</p>");
            html.Append("<table><tr><th>parameter</th><th>in</th><th>meaning</th></tr>");
            foreach (var parameter in get["parameters"]!.AsArray())
            {
                var p = parameter!["$ref"] is { } reference ? components[reference.GetValue<string>().Split('/')[^1]]! : parameter;
                html.Append($"<tr><td><code>{E(p["name"]!.GetValue<string>())}</code></td><td>{E(p["in"]!.GetValue<string>())}</td><td>{E(p["description"]?.GetValue<string>())}</td></tr>");
            }
            html.Append("</table><p>Answers: ").Append(E(string.Join(", ", get["responses"]!.AsObject().Select(r => r.Key)))).Append("</p>");
        }
        return html.Append("</body></html>").ToString();
    }
}
