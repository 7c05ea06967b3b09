using System.Text.Json.Nodes;
using Kontext.Broker.Hosting;
using Kontext.Broker.Security;

namespace Kontext.Broker.Ogc;

/// <summary>
/// The reusable parts of the API definition: parameters as Part 1 and Part 2 define them (limit with this broker's
/// default and maximum), the response schemas of Part 1 (landing page, conformance, collections, GeoJSON), the
/// exception document, and the security schemes of Kontext:Auth.
/// </summary>
internal static class ApiComponents
{
    public static JsonObject Build(OgcOptions options, AuthOptions auth)
    {
        var components = new JsonObject
        {
            ["parameters"] = Parameters(options),
            ["schemas"] = Schemas(),
            ["responses"] = new JsonObject
            {
                ["InvalidParameter"] = Error("A query parameter is unknown for this operation or has an invalid value"),
                ["NotFound"] = Error("No such tenant, collection or feature"),
                ["Unauthorized"] = Error("No credential, or one the broker does not accept"),
                ["Forbidden"] = Error("The credential does not give read access to this tenant"),
                ["ServerError"] = Error("The broker failed; the failure is logged"),
            },
        };
        var modes = AuthModeSetting.Parse(auth.Mode);
        if (modes != AuthModes.None)
        {
            var schemes = new JsonObject();
            if (modes.HasFlag(AuthModes.ApiKey))
                schemes["apiKey"] = new JsonObject { ["type"] = "apiKey", ["in"] = "header", ["name"] = AccessCheck.ApiKeyHeader };
            if (modes.HasFlag(AuthModes.Oidc))
                schemes["oidc"] = new JsonObject
                {
                    ["type"] = "openIdConnect",
                    ["openIdConnectUrl"] = (auth.Oidc.Authority ?? "").TrimEnd('/') + "/.well-known/openid-configuration",
                };
            components["securitySchemes"] = schemes;
        }
        return components;
    }

    /// <summary>Any one of the configured schemes.</summary>
    public static JsonArray Security(AuthOptions auth)
    {
        var modes = AuthModeSetting.Parse(auth.Mode);
        var alternatives = new JsonArray();
        if (modes.HasFlag(AuthModes.ApiKey)) alternatives.Add(new JsonObject { ["apiKey"] = new JsonArray() });
        if (modes.HasFlag(AuthModes.Oidc)) alternatives.Add(new JsonObject { ["oidc"] = new JsonArray() });
        return alternatives;
    }

    private static JsonObject Parameters(OgcOptions options)
    {
        JsonObject Query(string name, string description, JsonObject schema, bool explode = false) => new()
        {
            ["name"] = name, ["in"] = "query", ["required"] = false, ["description"] = description,
            ["schema"] = schema, ["style"] = "form", ["explode"] = explode,
        };
        var crsUris = new JsonArray(Crs.Supported.Select(c => (JsonNode)c.Uri).ToArray());
        return new JsonObject
        {
            ["limit"] = Query("limit", $"The most features in one page; a larger value gives {options.MaxLimit}.",
                new JsonObject { ["type"] = "integer", ["minimum"] = 1, ["maximum"] = options.MaxLimit, ["default"] = options.DefaultLimit }),
            ["offset"] = Query("offset", "How many matching features to skip (the next and prev links carry it).",
                new JsonObject { ["type"] = "integer", ["minimum"] = 0, ["default"] = 0 }),
            ["bbox"] = Query("bbox",
                "Only features whose geometry intersects this box: minimum longitude, minimum latitude, maximum longitude, maximum " +
                "latitude in CRS84 (or six numbers with heights; heights are not compared), in the axis order of bbox-crs when given. " +
                "A west edge larger than the east edge crosses the antimeridian.",
                new JsonObject
                {
                    ["type"] = "array",
                    ["oneOf"] = new JsonArray(new JsonObject { ["minItems"] = 4, ["maxItems"] = 4 }, new JsonObject { ["minItems"] = 6, ["maxItems"] = 6 }),
                    ["items"] = new JsonObject { ["type"] = "number" },
                }),
            ["bbox-crs"] = Query("bbox-crs", "The CRS of bbox (default CRS84).",
                new JsonObject { ["type"] = "string", ["format"] = "uri", ["enum"] = crsUris.DeepClone() }),
            ["crs"] = Query("crs", "The CRS of the geometries in the response (default CRS84); EPSG:4326 gives latitude first.",
                new JsonObject { ["type"] = "string", ["format"] = "uri", ["enum"] = crsUris.DeepClone() }),
            ["datetime"] = Query("datetime",
                "Only features observed (observedAt of any attribute; modifiedAt for entities without observedAt) at this RFC 3339 " +
                "date-time or within this interval: start/end, '..' or nothing for an open end.",
                new JsonObject { ["type"] = "string" }),
            ["f"] = Query("f", "The representation (the default is json).", new JsonObject { ["type"] = "string", ["enum"] = new JsonArray("json") }),
            ["f-features"] = Query("f", "The representation (the default is GeoJSON).",
                new JsonObject { ["type"] = "string", ["enum"] = new JsonArray("geojson", "json") }),
            ["featureId"] = new JsonObject
            {
                ["name"] = "featureId", ["in"] = "path", ["required"] = true, ["description"] = "The NGSI-LD entity id",
                ["schema"] = new JsonObject { ["type"] = "string" },
            },
            ["tenant"] = new JsonObject
            {
                ["name"] = "NGSILD-Tenant", ["in"] = "header", ["required"] = false,
                ["description"] = "The tenant (as in the NGSI-LD API); the default tenant when absent",
                ["schema"] = new JsonObject { ["type"] = "string" },
            },
        };
    }

    private static JsonObject Error(string description) => new()
    {
        ["description"] = description,
        ["content"] = new JsonObject { ["application/json"] = new JsonObject { ["schema"] = SchemaRef("exception") } },
    };

    private static JsonObject SchemaRef(string name) => new() { ["$ref"] = "#/components/schemas/" + name };

    private static JsonObject Object(JsonArray? required, JsonObject properties)
    {
        var schema = new JsonObject { ["type"] = "object" };
        if (required is not null) schema["required"] = required;
        schema["properties"] = properties;
        return schema;
    }

    private static JsonObject ArrayOf(JsonObject items) => new() { ["type"] = "array", ["items"] = items };

    private static JsonObject Text(string? format = null) =>
        format is null ? new JsonObject { ["type"] = "string" } : new JsonObject { ["type"] = "string", ["format"] = format };

    private static JsonObject Schemas() => new()
    {
        ["exception"] = Object(new JsonArray("code"), new JsonObject { ["code"] = Text(), ["description"] = Text() }),
        ["link"] = Object(new JsonArray("href"), new JsonObject
        {
            ["href"] = Text(), ["rel"] = Text(), ["type"] = Text(), ["hreflang"] = Text(), ["title"] = Text(), ["length"] = new JsonObject { ["type"] = "integer" },
        }),
        ["landingPage"] = Object(new JsonArray("links"), new JsonObject
        {
            ["title"] = Text(), ["description"] = Text(), ["links"] = ArrayOf(SchemaRef("link")),
        }),
        ["confClasses"] = Object(new JsonArray("conformsTo"), new JsonObject { ["conformsTo"] = ArrayOf(Text()) }),
        ["collections"] = Object(new JsonArray("links", "collections"), new JsonObject
        {
            ["links"] = ArrayOf(SchemaRef("link")), ["collections"] = ArrayOf(SchemaRef("collection")),
        }),
        ["collection"] = Object(new JsonArray("id", "links"), new JsonObject
        {
            ["id"] = Text(), ["title"] = Text(), ["description"] = Text(), ["links"] = ArrayOf(SchemaRef("link")),
            ["extent"] = SchemaRef("extent"), ["itemType"] = Text(), ["crs"] = ArrayOf(Text()), ["storageCrs"] = Text(),
        }),
        ["extent"] = Object(null, new JsonObject
        {
            ["spatial"] = Object(null, new JsonObject
            {
                ["bbox"] = ArrayOf(new JsonObject { ["type"] = "array", ["minItems"] = 4, ["maxItems"] = 6, ["items"] = new JsonObject { ["type"] = "number" } }),
                ["crs"] = Text(),
            }),
            ["temporal"] = Object(null, new JsonObject
            {
                ["interval"] = ArrayOf(new JsonObject
                {
                    ["type"] = "array", ["minItems"] = 2, ["maxItems"] = 2,
                    ["items"] = new JsonObject { ["type"] = "string", ["format"] = "date-time", ["nullable"] = true },
                }),
                ["trs"] = Text(),
            }),
        }),
        ["geometryGeoJSON"] = Object(new JsonArray("type"), new JsonObject
        {
            ["type"] = new JsonObject
            {
                ["type"] = "string",
                ["enum"] = new JsonArray("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection"),
            },
            ["coordinates"] = new JsonObject { ["type"] = "array" },
            ["geometries"] = ArrayOf(new JsonObject { ["type"] = "object" }),
        }),
        ["featureGeoJSON"] = Object(new JsonArray("type", "geometry", "properties"), new JsonObject
        {
            ["type"] = new JsonObject { ["type"] = "string", ["enum"] = new JsonArray("Feature") },
            ["id"] = Text(),
            ["geometry"] = new JsonObject { ["allOf"] = new JsonArray(SchemaRef("geometryGeoJSON")), ["nullable"] = true },
            ["properties"] = new JsonObject { ["type"] = "object", ["nullable"] = true },
            ["links"] = ArrayOf(SchemaRef("link")),
        }),
        ["featureCollectionGeoJSON"] = Object(new JsonArray("type", "features"), new JsonObject
        {
            ["type"] = new JsonObject { ["type"] = "string", ["enum"] = new JsonArray("FeatureCollection") },
            ["features"] = ArrayOf(SchemaRef("featureGeoJSON")),
            ["links"] = ArrayOf(SchemaRef("link")),
            ["timeStamp"] = Text("date-time"),
            ["numberMatched"] = new JsonObject { ["type"] = "integer", ["minimum"] = 0 },
            ["numberReturned"] = new JsonObject { ["type"] = "integer", ["minimum"] = 0 },
        }),
    };
}
