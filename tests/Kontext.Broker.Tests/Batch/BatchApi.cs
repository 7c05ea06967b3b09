using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Batch;

/// <summary>Request builders and assertions for /entityOperations/*.</summary>
public static class BatchApi
{
    public const string Operations = "/ngsi-ld/v1/entityOperations";
    public const string CoreContext = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld";

    public static Task<HttpResponseMessage> BatchAsync(this HttpClient client, string operation, string json, string query = "",
        string contentType = "application/json", string? link = null, string? tenant = null) =>
        client.Send(HttpMethod.Post, $"{Operations}/{operation}{query}", json, contentType, link, tenant: tenant);

    public static string Array(IEnumerable<string> items) => "[" + string.Join(",", items) + "]";

    public static string Ids(params string[] ids) => new JsonArray(ids.Select(i => (JsonNode?)i).ToArray()).ToJsonString();

    /// <summary>A small valid entity in normalized form.</summary>
    public static string Entity(string id, string type = "Building", string attributes = "") =>
        $$$$"""{"id":"{{{{id}}}}","type":"{{{{type}}}}"{{{{(attributes.Length > 0 ? "," + attributes : "")}}}}}""";

    public static async Task<HttpResponseMessage> BatchOkAsync(this HttpClient client, string operation, string json, string query = "", string? tenant = null)
    {
        var response = await client.BatchAsync(operation, json, query, tenant: tenant);
        if (!response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.MultiStatus)
            throw new InvalidOperationException($"batch {operation} failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return response;
    }

    /// <summary>Asserts 201 with a JSON array of exactly these ids (in any order).</summary>
    public static async Task ShouldBeCreatedIdsAsync(this HttpResponseMessage response, params string[] ids)
    {
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.Created, "the body was {0}", text);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        JsonNode.Parse(text)!.AsArray().Select(n => n!.GetValue<string>()).Should().BeEquivalentTo(ids);
    }

    public static async Task ShouldBeNoContentAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.NoContent, "the body was {0}", text);
        text.Should().BeEmpty();
    }

    /// <summary>Asserts 207 with a BatchOperationResult: these successes, and errors for these ids with these error types.</summary>
    public static async Task<JsonObject> ShouldBeMultiStatusAsync(this HttpResponseMessage response, string[] success, params (string? Id, string Type)[] errors)
    {
        var text = await response.Content.ReadAsStringAsync();
        ((int)response.StatusCode).Should().Be(207, "the body was {0}", text);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        var body = JsonNode.Parse(text)!.AsObject();
        body["success"]!.AsArray().Select(n => n!.GetValue<string>()).Should().BeEquivalentTo(success);
        var actual = body["errors"]!.AsArray().Select(e => e!.AsObject()).ToList();
        actual.Select(e => (e["entityId"]?.GetValue<string>(), Type(e["error"]!["type"]!.GetValue<string>())))
            .Should().BeEquivalentTo(errors);
        foreach (var error in actual.Select(e => e["error"]!.AsObject()))
        {
            error["title"]!.GetValue<string>().Should().NotBeNullOrWhiteSpace();
            error["detail"]!.GetValue<string>().Should().NotBeNullOrWhiteSpace();
            error["status"]!.GetValue<int>().Should().BeInRange(400, 599);
        }
        return body;
    }

    public static async Task<HttpStatusCode> StatusOfAsync(this HttpClient client, string id, string? tenant = null) =>
        (await client.Send(HttpMethod.Get, $"{Api.Entities}/{id}", tenant: tenant)).StatusCode;

    private static string Type(string uri) => uri.Replace("https://uri.etsi.org/ngsi-ld/errors/", "");
}
