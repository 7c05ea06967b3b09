using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Ogc;

/// <summary>
/// A broker whose OGC API – Features tests write their data through the NGSI-LD API with the shipped smart-data-models
/// Environment @context given inline (nothing fetched), each test class in its own tenant.
/// </summary>
public sealed class OgcFixture() : BrokerFixtureBase(new Dictionary<string, string?>
{
    ["Kontext:Adapters:SchemaDirectory"] = Path.Combine(RepoPaths.Root, "schemas"),
    ["Kontext:Ogc:MaxLimit"] = "50",
});

[CollectionDefinition(Name)]
public sealed class OgcCollection : ICollectionFixture<OgcFixture>
{
    public const string Name = "ogc";
}

/// <summary>Requests and data shapes the OGC tests share.</summary>
public static class Ogc
{
    public const string Crs84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";
    public const string Epsg4326 = "http://www.opengis.net/def/crs/EPSG/0/4326";

    /// <summary>The shipped smart-data-models Environment @context (schemas/contexts), as the inline context object.</summary>
    public static JsonNode EnvironmentContext { get; } =
        JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "schemas", "contexts", "Environment.jsonld")))!["@context"]!;

    /// <summary>A FloodMonitoring entity as the stormwater adapters write it: levels in metres, observed, located.</summary>
    public static JsonObject FloodMonitoring(string id, double lon, double lat, double level, string observedAt, string? stationId = null)
    {
        var entity = new JsonObject
        {
            ["id"] = id,
            ["type"] = "FloodMonitoring",
            ["currentLevel"] = new JsonObject { ["type"] = "Property", ["value"] = level, ["unitCode"] = "MTR", ["observedAt"] = observedAt },
            ["referenceLevel"] = new JsonObject { ["type"] = "Property", ["value"] = 2.5, ["unitCode"] = "MTR", ["observedAt"] = observedAt },
            ["location"] = new JsonObject
            {
                ["type"] = "GeoProperty",
                ["value"] = new JsonObject { ["type"] = "Point", ["coordinates"] = new JsonArray(lon, lat) },
            },
        };
        if (stationId is not null) entity["stationID"] = new JsonObject { ["type"] = "Property", ["value"] = stationId };
        return entity;
    }

    /// <summary>Writes entities (batch upsert, JSON-LD with the Environment context inline) to a tenant; writing them again replaces them.</summary>
    public static async Task SeedAsync(this HttpClient client, string tenant, params JsonObject[] entities)
    {
        var batch = new JsonArray();
        foreach (var entity in entities)
        {
            var body = (JsonObject)entity.DeepClone();
            body["@context"] = EnvironmentContext.DeepClone();
            batch.Add(body);
        }
        var response = await client.Send(HttpMethod.Post, "/ngsi-ld/v1/entityOperations/upsert", batch.ToJsonString(), "application/ld+json", tenant: tenant);
        if (response.StatusCode is not (HttpStatusCode.Created or HttpStatusCode.NoContent))
            throw new InvalidOperationException($"upsert failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>GET under /ogc with the tenant header; the answer's status and JSON body.</summary>
    public static async Task<(HttpStatusCode Status, JsonObject Body, HttpResponseMessage Response)> OgcAsync(this HttpClient client, string path, string? tenant)
    {
        var response = await client.Send(HttpMethod.Get, "/ogc" + path, tenant: tenant);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonNode.Parse(text)!.AsObject(), response);
    }

    /// <summary>A 200 answer's body.</summary>
    public static async Task<JsonObject> OgcOkAsync(this HttpClient client, string path, string? tenant)
    {
        var (status, body, _) = await client.OgcAsync(path, tenant);
        status.Should().Be(HttpStatusCode.OK, "GET /ogc{0} answered {1}", path, body.ToJsonString());
        return body;
    }

    /// <summary>Asserts an OGC exception document (Part 1 exception.yaml: code required, description) with this status.</summary>
    public static async Task ShouldBeOgcExceptionAsync(this HttpClient client, string path, string? tenant, HttpStatusCode status, string? mentioning = null)
    {
        var (actual, body, response) = await client.OgcAsync(path, tenant);
        actual.Should().Be(status, "GET /ogc{0} answered {1}", path, body.ToJsonString());
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        body["code"]!.GetValue<string>().Should().NotBeNullOrWhiteSpace();
        body["description"]!.GetValue<string>().Should().NotBeNullOrWhiteSpace();
        if (mentioning is not null) body["description"]!.GetValue<string>().Should().Contain(mentioning);
    }

    public static IEnumerable<JsonObject> Features(this JsonObject collection) => collection["features"]!.AsArray().Select(f => f!.AsObject());

    public static IEnumerable<string> FeatureIds(this JsonObject collection) => collection.Features().Select(f => f["id"]!.GetValue<string>());

    public static JsonObject? LinkOf(this JsonObject document, string rel) =>
        document["links"]!.AsArray().Select(l => l!.AsObject()).FirstOrDefault(l => l["rel"]!.GetValue<string>() == rel);

    /// <summary>The path and query of a link, relative to /ogc (links are absolute URLs).</summary>
    public static string OgcPath(this JsonObject link)
    {
        var uri = new Uri(link["href"]!.GetValue<string>());
        uri.AbsolutePath.Should().StartWith("/ogc");
        return uri.PathAndQuery["/ogc".Length..];
    }

    public static (double X, double Y) Point(this JsonObject feature)
    {
        var c = feature["geometry"]!["coordinates"]!.AsArray();
        return (c[0]!.GetValue<double>(), c[1]!.GetValue<double>());
    }

    public static string Q(double value) => value.ToString(CultureInfo.InvariantCulture);
}
