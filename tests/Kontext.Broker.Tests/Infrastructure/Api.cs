using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Kontext.Broker.Tests.Infrastructure;

/// <summary>Short request builders for the NGSI-LD API, so tests read like the spec's examples.</summary>
public static class Api
{
    public const string Entities = "/ngsi-ld/v1/entities";
    public const string ContextRel = "http://www.w3.org/ns/json-ld#context";

    public static string NewId(string type = "Thing") => $"urn:ngsi-ld:{type}:{Guid.NewGuid():N}";

    public static string Link(string url) => $"<{url}>; rel=\"{ContextRel}\"; type=\"application/ld+json\"";

    public static HttpRequestMessage Request(HttpMethod method, string path, string? json = null, string contentType = "application/json",
        string? link = null, string? accept = null, string? tenant = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, contentType);
        if (request.Content is not null) request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (link is not null) request.Headers.TryAddWithoutValidation("Link", link);
        if (accept is not null) request.Headers.TryAddWithoutValidation("Accept", accept);
        if (tenant is not null) request.Headers.Add("NGSILD-Tenant", tenant);
        return request;
    }

    public static Task<HttpResponseMessage> Send(this HttpClient client, HttpMethod method, string path, string? json = null,
        string contentType = "application/json", string? link = null, string? accept = null, string? tenant = null) =>
        client.SendAsync(Request(method, path, json, contentType, link, accept, tenant));

    public static async Task<HttpResponseMessage> CreateAsync(this HttpClient client, string json, string contentType = "application/json", string? link = null, string? tenant = null)
    {
        var response = await client.Send(HttpMethod.Post, Entities, json, contentType, link, tenant: tenant);
        return response;
    }

    public static async Task CreateOkAsync(this HttpClient client, string json, string contentType = "application/json", string? link = null, string? tenant = null)
    {
        var response = await client.CreateAsync(json, contentType, link, tenant);
        if (response.StatusCode != HttpStatusCode.Created)
            throw new InvalidOperationException($"create failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    public static async Task<JsonObject> GetEntityAsync(this HttpClient client, string id, string query = "", string? link = null, string? tenant = null, string? accept = null)
    {
        var response = await client.Send(HttpMethod.Get, $"{Entities}/{id}{query}", link: link, tenant: tenant, accept: accept);
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"GET {id} failed: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    public static async Task<JsonObject> JsonAsync(this HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();

    /// <summary>Asserts an NGSI-LD ProblemDetails answer with the given status and error type name.</summary>
    public static async Task ShouldBeProblemAsync(this HttpResponseMessage response, HttpStatusCode status, string errorType)
    {
        var text = await response.Content.ReadAsStringAsync();
        ((int)response.StatusCode).Should().Be((int)status, "the body was {0}", text);
        var body = JsonNode.Parse(text)!.AsObject();
        body["type"]!.GetValue<string>().Should().Be("https://uri.etsi.org/ngsi-ld/errors/" + errorType);
        body["title"]!.GetValue<string>().Should().NotBeNullOrWhiteSpace();
        body["detail"]!.GetValue<string>().Should().NotBeNullOrWhiteSpace();
    }

    /// <summary>The URL named in a response's JSON-LD context Link header.</summary>
    public static string? ContextLink(this HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Link", out var values)) return null;
        var link = values.SelectMany(v => v.Split(">,")).FirstOrDefault(v => v.Contains($"rel=\"{ContextRel}\""));
        return link is null ? null : link[(link.IndexOf('<') + 1)..link.IndexOf('>')];
    }
}
