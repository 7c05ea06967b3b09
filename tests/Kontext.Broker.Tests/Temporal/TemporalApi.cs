using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Temporal;

internal static class TemporalApi
{
    public const string Root = "/ngsi-ld/v1/temporal/entities";

    public static JsonObject Vehicle(string id, params (string Attr, double Value, string ObservedAt)[] instances)
    {
        var entity = new JsonObject { ["id"] = id, ["type"] = "Vehicle" };
        foreach (var group in instances.GroupBy(i => i.Attr))
            entity[group.Key] = new JsonArray(group.Select(i => (JsonNode)new JsonObject { ["type"] = "Property", ["value"] = i.Value, ["observedAt"] = i.ObservedAt }).ToArray());
        return entity;
    }

    public static async Task<HttpResponseMessage> CreateTemporalAsync(this HttpClient client, JsonObject entity, string? tenant = null) =>
        await client.Send(HttpMethod.Post, Root, entity.ToJsonString(), tenant: tenant);

    public static async Task<(HttpResponseMessage Response, JsonNode Body)> GetTemporalAsync(this HttpClient client, string pathAndQuery, string? tenant = null)
    {
        var response = await client.Send(HttpMethod.Get, pathAndQuery, tenant: tenant);
        var text = await response.Content.ReadAsStringAsync();
        ((int)response.StatusCode).Should().BeOneOf([200, 206], text);
        return (response, JsonNode.Parse(text)!);
    }

    /// <summary>The instances of an attribute in a normalized temporal entity (an object is one instance).</summary>
    public static List<JsonObject> Instances(JsonNode entity, string attr) => entity[attr] switch
    {
        null => [],
        JsonArray a => a.Select(x => x!.AsObject()).ToList(),
        JsonObject o => [o],
        _ => throw new InvalidOperationException(),
    };

    public static string T(int minute) => new DateTimeOffset(2020, 8, 1, 12, 0, 0, TimeSpan.Zero).AddMinutes(minute).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'");
}
