using System.Net;

namespace Kontext.Broker.Tests.Entities;

/// <summary>
/// What the tests of answers written from stored documents share (<see cref="StoredEntityRetrievalTests"/>,
/// <see cref="StoredQueryPageTests"/>): a caller's context, entities with every attribute kind, and
/// the headers two answers are compared by.
/// </summary>
internal static class StoredAnswers
{
    public const string UserContext = """
        {"@context":[{"Machine":"https://example.org/Machine","ex":"https://example.org/"},
         "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"]}
        """;

    /// <summary>A Machine with every attribute kind but LanguageProperty, datasetIds, sub-attributes and escaped text.</summary>
    public static string MachineWithoutLanguage(string id, string speed = "2.50") => $$$$"""
        {"id":"{{{{id}}}}","type":"Machine","scope":["/f/a","/f/b"],
         "speed":[{"type":"Property","value":{{{{speed}}}},"unitCode":"KMH","observedAt":"2024-01-01T10:00:00Z",
                   "accuracy":{"type":"Property","value":0.1,"providedBy":{"type":"Relationship","object":"urn:ngsi-ld:P:1"}}},
                  {"type":"Property","value":3,"datasetId":"urn:ngsi-ld:Dataset:b"}],
         "https://example.org/full":{"type":"Property","value":{"value":1,"k":"x \"y\" é"}},
         "owner":{"type":"Relationship","object":"urn:ngsi-ld:P:1","objectType":"Person"},
         "location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[-3.7,40.4]}},
         "geo":{"type":"Property","value":{"type":"Point","coordinates":[1,2]}},
         "category":{"type":"VocabProperty","vocab":["Machine","https://example.org/Other"]},
         "config":{"type":"JsonProperty","json":{"type":"x","value":[1,null]}},
         "levels":{"type":"ListProperty","valueList":[1,"b",2.5]},
         "parts":{"type":"ListRelationship","objectList":[{"object":"urn:ngsi-ld:P:1"},{"object":"urn:ngsi-ld:P:2"}]}}
        """;

    /// <summary>A Machine with a LanguageProperty and an expiresAt.</summary>
    public static string MachineWithLanguage(string id) => $$$"""
        {"id":"{{{id}}}","type":"Machine","expiresAt":"2040-01-01T00:00:00Z",
         "street":{"type":"LanguageProperty","languageMap":{"fr":"Grand Place","@none":"Big Square"}},
         "speed":{"type":"Property","value":5,"observedAt":"2024-01-01T10:00:00.123Z"}}
        """;

    /// <summary>
    /// Both answers, status, body and headers (but the request id, the date and <paramref name="ignoredHeaders"/>), are
    /// the same; returns the first's body and response.
    /// </summary>
    public static async Task<(string Body, HttpResponseMessage Response)> ShouldAnswerAlikeAsync(this HttpClient client, HttpRequestMessage stored,
        HttpRequestMessage entityPath, params string[] ignoredHeaders)
    {
        var first = await client.SendAsync(stored);
        var second = await client.SendAsync(entityPath);
        var body = await first.Content.ReadAsStringAsync();
        first.StatusCode.Should().Be(HttpStatusCode.OK, body);
        second.StatusCode.Should().Be(HttpStatusCode.OK);
        body.Should().Be(await second.Content.ReadAsStringAsync(), stored.RequestUri?.ToString());
        string[] ignored = ["X-Request-Id", "Date", .. ignoredHeaders];
        Headers(first, ignored).Should().BeEquivalentTo(Headers(second, ignored));
        return (body, first);
    }

    private static List<string> Headers(HttpResponseMessage response, string[] ignored) =>
        [.. response.Headers.Concat(response.Content.Headers).Where(h => !ignored.Contains(h.Key, StringComparer.OrdinalIgnoreCase))
            .Select(h => h.Key + ": " + string.Join(",", h.Value))];
}
