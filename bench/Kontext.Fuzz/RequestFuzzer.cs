using System.Text;
using System.Text.Json.Nodes;

namespace Kontext.Fuzz;

/// <summary>
/// Generates requests from a fixed seed: a valid request of one of the API families, then zero to four mutations of
/// its body (JSON-level and byte-level), URL, query and headers. The same seed always gives the same sequence.
/// Entities are named urn:ngsi-ld:Fuzz:1..20 in the tenants the caller names, so the fuzz never touches other data.
/// </summary>
public sealed class RequestFuzzer(int seed, IReadOnlyList<string?> tenants, string adapterSource = "fuzz", string adapterSecret = "fuzz-secret")
{
    private readonly Random _random = new(seed);

    private static readonly string[] Families = ["entities", "batch", "subscriptions", "temporal", "discovery", "contexts", "adapters", "federation", "snapshots"];

    public IEnumerable<FuzzRequest> Generate(int count)
    {
        for (var i = 0; i < count; i++) yield return Next();
    }

    public FuzzRequest Next()
    {
        var request = Pick(Families) switch
        {
            "entities" => Entities(),
            "batch" => Batch(),
            "subscriptions" => Subscriptions(),
            "temporal" => Temporal(),
            "discovery" => Discovery(),
            "contexts" => Contexts(),
            "federation" => Federation(),
            "snapshots" => Snapshots(),
            _ => Adapters(),
        };
        var mutations = _random.Next(5);
        for (var m = 0; m < mutations; m++) request = Mutate(request);
        return Build(request);
    }

    // ---- valid requests by family ------------------------------------------------------------------------------

    private string Id() => $"urn:ngsi-ld:Fuzz:{_random.Next(1, 21)}";
    private string Attr() => Pick(["temperature", "name", "rel", "location", "lang", "tags", "json", "vocab", "unknown"]);

    private string Entity(string id) => Pick([
        $$$$"""{"id":"{{{{id}}}}","type":"Fuzz","temperature":{"type":"Property","value":21.5,"unitCode":"CEL","observedAt":"2026-11-30T10:00:00Z"},"name":{"type":"Property","value":"pump"},"rel":{"type":"Relationship","object":"urn:ngsi-ld:Fuzz:2"},"location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[4.35,50.85]}},"lang":{"type":"LanguageProperty","languageMap":{"en":"river","fr":"fleuve"}}}""",
        $$$$"""{"id":"{{{{id}}}}","type":["Fuzz","Sensor"],"scope":"/city/north","tags":{"type":"ListProperty","valueList":[1,2,3]},"json":{"type":"JsonProperty","json":{"a":[1,{"b":null}]}},"vocab":{"type":"VocabProperty","vocab":"high"}}""",
        $$$$"""{"id":"{{{{id}}}}","type":"Fuzz","temperature":20,"name":"concise","location":{"type":"Polygon","coordinates":[[[4,50],[5,50],[5,51],[4,50]]]},"multi":[{"type":"Property","value":1,"datasetId":"urn:ngsi-ld:Dataset:a"},{"type":"Property","value":2}]}""",
    ]);

    private string Fragment() => Pick([
        """{"temperature":{"type":"Property","value":23.1,"observedAt":"2026-11-30T11:00:00Z"}}""",
        """{"name":{"type":"Property","value":"renamed"},"newAttr":{"type":"Property","value":{"nested":[1,2]}}}""",
        """{"rel":{"type":"Relationship","object":"urn:ngsi-ld:Fuzz:3"},"temperature":null}""",
        """{"value":42}""",
    ]);

    private Draft Entities()
    {
        var id = Id();
        return _random.Next(14) switch
        {
            0 => new Draft("POST", "/ngsi-ld/v1/entities", Entity(id)),
            1 => new Draft("GET", $"/ngsi-ld/v1/entities/{id}", null, Query(RetrieveParameters)),
            2 => new Draft("GET", "/ngsi-ld/v1/entities", null, Query(QueryParameters, always: "type=Fuzz")),
            3 => new Draft("DELETE", $"/ngsi-ld/v1/entities/{id}"),
            4 => new Draft("PUT", $"/ngsi-ld/v1/entities/{id}", Entity(id)),
            5 => new Draft("PATCH", $"/ngsi-ld/v1/entities/{id}", Fragment(), ContentType: Pick(["application/json", "application/merge-patch+json"])),
            6 => new Draft("POST", $"/ngsi-ld/v1/entities/{id}/attrs", Fragment(), Query(["options=noOverwrite"])),
            7 => new Draft("PATCH", $"/ngsi-ld/v1/entities/{id}/attrs", Fragment()),
            8 => new Draft("PATCH", $"/ngsi-ld/v1/entities/{id}/attrs/{Attr()}", """{"type":"Property","value":5}"""),
            9 => new Draft("PUT", $"/ngsi-ld/v1/entities/{id}/attrs/{Attr()}", """{"type":"Property","value":"replaced"}"""),
            10 => new Draft("DELETE", $"/ngsi-ld/v1/entities/{id}/attrs/{Attr()}", null, Query(["deleteAll=true", "datasetId=urn:ngsi-ld:Dataset:a"])),
            11 => new Draft("POST", "/ngsi-ld/v1/entityOperations/query",
                """{"type":"Query","entities":[{"type":"Fuzz"}],"q":"temperature>1","geoQ":{"geometry":"Point","coordinates":[4.35,50.85],"georel":"near;maxDistance==5000"},"attrs":["temperature"]}"""),
            12 => new Draft("DELETE", "/ngsi-ld/v1/entities", null, Query(["q=temperature>100", "type=Nothing"], always: "type=NoSuchType")),
            _ => new Draft("GET", $"/ngsi-ld/v1/entities/{id}", null, Query(RetrieveParameters), Accept: Pick(["application/geo+json", "application/ld+json"])),
        };
    }

    private Draft Batch()
    {
        var entities = "[" + string.Join(",", Enumerable.Range(0, _random.Next(1, 4)).Select(_ => Entity(Id()))) + "]";
        return _random.Next(5) switch
        {
            0 => new Draft("POST", "/ngsi-ld/v1/entityOperations/create", entities),
            1 => new Draft("POST", "/ngsi-ld/v1/entityOperations/upsert", entities, Query(["options=update", "options=replace"])),
            2 => new Draft("POST", "/ngsi-ld/v1/entityOperations/update", entities, Query(["options=noOverwrite"])),
            3 => new Draft("POST", "/ngsi-ld/v1/entityOperations/merge", entities),
            _ => new Draft("POST", "/ngsi-ld/v1/entityOperations/delete", $"[\"{Id()}\",\"{Id()}\"]"),
        };
    }

    // Registrations point at a closed loopback port: forwarding fails fast and must degrade to local answers.
    private Draft Federation()
    {
        var id = $"urn:ngsi-ld:ContextSourceRegistration:fuzz-{_random.Next(1, 6)}";
        var registration = $$$$"""{"id":"{{{{id}}}}","type":"ContextSourceRegistration","information":[{"entities":[{"type":"Fuzz"}],"propertyNames":["temperature"]}],"endpoint":"http://127.0.0.1:9","mode":"{{{{Pick(["inclusive", "exclusive", "redirect", "auxiliary"])}}}}","timeout":200,"management":{"localOnly":false}}""";
        var subscription = $$$$"""{"id":"urn:ngsi-ld:Subscription:csr-fuzz-{{{{_random.Next(1, 4)}}}}","type":"Subscription","entities":[{"type":"Fuzz"}],"notification":{"endpoint":{"uri":"http://127.0.0.1:9/notify"}}}""";
        return _random.Next(9) switch
        {
            0 => new Draft("POST", "/ngsi-ld/v1/csourceRegistrations", registration),
            1 => new Draft("GET", "/ngsi-ld/v1/csourceRegistrations", null, Query(["type=Fuzz", "attrs=temperature", "limit=2", "count=true", "q=mode==\"inclusive\""])),
            2 => new Draft("GET", $"/ngsi-ld/v1/csourceRegistrations/{id}"),
            3 => new Draft("PATCH", $"/ngsi-ld/v1/csourceRegistrations/{id}", """{"endpoint":"http://127.0.0.1:9/other","expiresAt":"2030-01-01T00:00:00Z"}"""),
            4 => new Draft("DELETE", $"/ngsi-ld/v1/csourceRegistrations/{id}"),
            5 => new Draft("POST", "/ngsi-ld/v1/csourceSubscriptions", subscription),
            6 => new Draft("GET", "/ngsi-ld/v1/csourceSubscriptions", null, Query(["limit=1", "count=true"])),
            7 => new Draft("GET", "/ngsi-ld/v1/info/sourceIdentity"),
            _ => new Draft("GET", $"/ngsi-ld/v1/entities/{Id()}", null, Query(["local=true", "attrs=temperature"])),
        };
    }

    private Draft Snapshots()
    {
        var id = $"urn:ngsi-ld:Snapshot:fuzz-{_random.Next(1, 4)}";
        return _random.Next(5) switch
        {
            0 => new Draft("POST", "/ngsi-ld/v1/snapshots", $$$$"""{"id":"{{{{id}}}}","type":"Snapshot","snapshotQueries":[{"type":"Query","entities":[{"type":"Fuzz"}]}],"snapshotPriority":1}"""),
            1 => new Draft("GET", "/ngsi-ld/v1/snapshots", null, Query(["limit=2", "count=true"])),
            2 => new Draft("GET", $"/ngsi-ld/v1/snapshots/{id}"),
            3 => new Draft("PATCH", $"/ngsi-ld/v1/snapshots/{id}", """{"snapshotPriority":2}"""),
            _ => new Draft("DELETE", $"/ngsi-ld/v1/snapshots/{id}"),
        };
    }

    private Draft Subscriptions()
    {
        var id = $"urn:ngsi-ld:Subscription:fuzz-{_random.Next(1, 6)}";
        var body = $$$$"""{"id":"{{{{id}}}}","type":"Subscription","entities":[{"type":"Fuzz","idPattern":"urn:ngsi-ld:Fuzz:.*"}],"watchedAttributes":["temperature"],"q":"temperature>20;name==\"pump\"","geoQ":{"geometry":"Point","coordinates":[4.35,50.85],"georel":"near;maxDistance==1000"},"throttling":1,"expiresAt":"2030-01-01T00:00:00Z","notification":{"format":"keyValues","attributes":["temperature"],"endpoint":{"uri":"http://127.0.0.1:9/notify","accept":"application/json","receiverInfo":[{"key":"X-Token","value":"t"}]}}}""";
        return _random.Next(5) switch
        {
            0 => new Draft("POST", "/ngsi-ld/v1/subscriptions", body),
            1 => new Draft("GET", "/ngsi-ld/v1/subscriptions", null, Query(["limit=2", "offset=1", "count=true"])),
            2 => new Draft("GET", $"/ngsi-ld/v1/subscriptions/{id}"),
            3 => new Draft("PATCH", $"/ngsi-ld/v1/subscriptions/{id}", """{"isActive":false,"throttling":5,"q":"temperature<10"}"""),
            _ => new Draft("DELETE", $"/ngsi-ld/v1/subscriptions/{id}"),
        };
    }

    private Draft Temporal()
    {
        var id = Id();
        const string instances = """{"type":"Property","value":1,"observedAt":"2026-11-30T10:00:00Z"},{"type":"Property","value":2,"observedAt":"2026-11-30T11:00:00Z"}""";
        return _random.Next(7) switch
        {
            0 => new Draft("POST", "/ngsi-ld/v1/temporal/entities", $$$$"""{"id":"{{{{id}}}}","type":"Fuzz","temperature":[{{{{instances}}}}]}"""),
            1 => new Draft("GET", $"/ngsi-ld/v1/temporal/entities/{id}", null, Query(TemporalParameters)),
            2 => new Draft("GET", "/ngsi-ld/v1/temporal/entities", null, Query(TemporalParameters, always: "type=Fuzz")),
            3 => new Draft("POST", $"/ngsi-ld/v1/temporal/entities/{id}/attrs", $$$$"""{"temperature":[{{{{instances}}}}]}"""),
            4 => new Draft("DELETE", $"/ngsi-ld/v1/temporal/entities/{id}/attrs/temperature", null, Query(["deleteAll=true"])),
            5 => new Draft("PATCH", $"/ngsi-ld/v1/temporal/entities/{id}/attrs/temperature/urn:ngsi-ld:instance:{_random.Next(9)}", """{"type":"Property","value":9}"""),
            _ => new Draft("POST", "/ngsi-ld/v1/temporal/entityOperations/query",
                """{"type":"Query","entities":[{"type":"Fuzz"}],"temporalQ":{"timerel":"between","timeAt":"2026-11-01T00:00:00Z","endTimeAt":"2026-12-01T00:00:00Z"}}"""),
        };
    }

    private Draft Discovery() => _random.Next(4) switch
    {
        0 => new Draft("GET", "/ngsi-ld/v1/types", null, Query(["details=true"])),
        1 => new Draft("GET", "/ngsi-ld/v1/types/Fuzz"),
        2 => new Draft("GET", "/ngsi-ld/v1/attributes", null, Query(["details=true"])),
        _ => new Draft("GET", $"/ngsi-ld/v1/attributes/{Attr()}"),
    };

    private Draft Contexts() => _random.Next(4) switch
    {
        0 => new Draft("POST", "/ngsi-ld/v1/jsonldContexts", """{"@context":{"temperature":"https://example.org/temperature","Fuzz":"https://example.org/Fuzz"}}"""),
        1 => new Draft("GET", "/ngsi-ld/v1/jsonldContexts", null, Query(["details=true", "kind=Hosted", "kind=Cached"])),
        2 => new Draft("GET", $"/ngsi-ld/v1/jsonldContexts/{Pick(["urn:ngsi-ld:context:x", "https%3A%2F%2Furi.etsi.org%2Fngsi-ld%2Fv1%2Fngsi-ld-core-context.jsonld"])}"),
        _ => new Draft("DELETE", $"/ngsi-ld/v1/jsonldContexts/urn:ngsi-ld:context:{_random.Next(5)}", null, Query(["reload=true"])),
    };

    private Draft Adapters()
    {
        var device = $"fuzz-{_random.Next(1, 4)}";
        var tts = $$$$"""{"end_device_ids":{"device_id":"{{{{device}}}}","dev_eui":"70B3D57BA000{{{{_random.Next(1000, 9999)}}}}","application_ids":{"application_id":"city"}},"received_at":"2026-11-30T10:00:00Z","uplink_message":{"f_cnt":{{{{_random.Next(1, 100000)}}}},"f_port":1,"decoded_payload":{"distance":1234,"battery":3.6},"version_ids":{"brand_id":"dragino","model_id":"ldds75"},"rx_metadata":[{"rssi":-80}]}}""";
        var draft = _random.Next(6) switch
        {
            0 => new Draft("POST", $"/adapters/tts/{adapterSource}-tts", tts),
            1 => new Draft("POST", $"/adapters/json/{adapterSource}-json", $$$$"""{"deviceId":"{{{{device}}}}","model":"generic-parking-sensor","time":"2026-11-30T10:00:00Z","data":{"occupied":true}}"""),
            2 => new Draft("POST", $"/adapters/chirpstack/{adapterSource}-chirpstack", $$$$"""{"deduplicationId":"x","time":"2026-11-30T10:00:00Z","deviceInfo":{"devEui":"0011223344556677","deviceName":"{{{{device}}}}"},"fCnt":{{{{_random.Next(100000)}}}},"object":{"distance":1}}"""),
            3 => new Draft("GET", "/adapters/deadletters", null, Query(["status=pending", "limit=5"])),
            4 => new Draft("PUT", $"/adapters/validation/{Pick(["WaterObserved", "Fuzz"])}", """{"mode":"warn"}"""),
            _ => new Draft("GET", $"/adapters/contexts/{Pick(["Environment", "Nothing", "..%2F..", "x"])}.jsonld"),
        };
        return draft with { Headers = [.. draft.Headers, ("X-Api-Key", adapterSecret)] };
    }

    private static readonly string[] RetrieveParameters =
        ["options=keyValues", "options=concise", "options=sysAttrs", "format=simplified", "attrs=temperature,name", "pick=id,temperature", "omit=name",
         "lang=fr", "lang=*", "geometryProperty=location", "datasetId=urn:ngsi-ld:Dataset:a", "join=inline", "joinLevel=2"];

    private static readonly string[] QueryParameters =
        ["q=temperature>20", "q=name==\"pump\"|temperature<=0", "q=rel==urn:ngsi-ld:Fuzz:2", "q=lang[fr]==\"fleuve\"", "attrs=temperature",
         "georel=near;maxDistance==2000&geometry=Point&coordinates=[4.35,50.85]", "georel=within&geometry=Polygon&coordinates=[[[4,50],[5,50],[5,51],[4,50]]]",
         "idPattern=urn:ngsi-ld:Fuzz:1.*", "id=urn:ngsi-ld:Fuzz:1,urn:ngsi-ld:Fuzz:2", "scopeQ=/city/#", "limit=5", "offset=3", "count=true",
         "options=keyValues", "orderBy=temperature", "type=Fuzz,Sensor", "type=(Fuzz;Sensor)", "pick=temperature", "local=true"];

    private static readonly string[] TemporalParameters =
        ["timerel=after&timeAt=2026-11-30T09:00:00Z", "timerel=between&timeAt=2026-11-01T00:00:00Z&endTimeAt=2026-12-01T00:00:00Z", "lastN=1",
         "options=temporalValues", "options=aggregatedValues&aggrMethods=avg,max&aggrPeriodDuration=PT1H", "timeproperty=modifiedAt", "attrs=temperature",
         "options=sysAttrs"];

    private IReadOnlyList<string> Query(string[] candidates, string? always = null)
    {
        var chosen = new List<string>();
        if (always is not null) chosen.Add(always);
        var n = _random.Next(3);
        for (var i = 0; i < n; i++) chosen.Add(Pick(candidates));
        return chosen;
    }

    // ---- mutations ---------------------------------------------------------------------------------------------

    private static readonly string[] NastyStrings =
        ["", " ", "\u0000", "\uFFFF", "\u202E", "a\u200Bb", "<script>", "\"", "\\", "%", "%00", "%ZZ", "..", "../..", "/", "urn:", ":", "urn:ngsi-ld:Fuzz:1",
         "http://127.0.0.1:9/x", "2026-13-45T99:99:99Z", "Thu, 26 Nov 2026 11:00:00 GMT", "1e999", "NaN", "-0", "Property", "Relationship", "@context", "@id",
         "GeometryCollection", "citta\u0300", "\uD83D\uDE00", "x;y", "a==b", "(((((", "[[[[", "q>", "$where", "{\"$gt\":1}"];

    private Draft Mutate(Draft draft) => _random.Next(16) switch
    {
        0 or 1 or 2 => draft with { Body = MutateJson(draft.Body) },
        3 => draft with { Body = DuplicateMember(draft.Body) },
        4 => draft with { RawBody = BreakBytes(draft.Body) },
        5 => draft with { ContentType = Pick(["text/plain", "application/ld+json", "application/json; charset=latin1", "application/merge-patch+json", "garbage/", "", "application/geo+json"]) },
        6 => draft with { Headers = [.. draft.Headers, ("Link", Pick(["<http://127.0.0.1:9/ctx.jsonld>; rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\"", "<>", "garbage", "<urn:x>; rel=\"http://www.w3.org/ns/json-ld#context\"", "<https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld>; rel=\"http://www.w3.org/ns/json-ld#context\""]))] },
        7 => draft with { Accept = Pick(["text/html", "application/geo+json", "*/*;q=abc", "application/ld+json;q=0", "application/*", ";;;", "application/json, text/plain;q=0.5"]) },
        8 => draft with { Tenant = Pick(NastyStrings) },
        9 => draft with { Path = MutatePath(draft.Path) },
        10 or 11 => draft with { QueryParts = [.. draft.QueryParts, $"{Pick(["q", "type", "attrs", "pick", "omit", "limit", "offset", "georel", "geometry", "coordinates", "options", "lang", "timeAt", "timerel", "lastN", "idPattern", "scopeQ", "count", "orderBy", "datasetId", "aggrMethods"])}={Uri.EscapeDataString(Pick(NastyStrings))}"] },
        12 => draft with { Method = Pick(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]) },
        13 => draft with { Headers = [.. draft.Headers, (Pick(["Prefer", "Content-Length-X", "NGSILD-EntityMap", "X-Api-Key", "Authorization"]), Pick(NastyStrings))] },
        14 => draft with { Body = draft.Body is null ? Entity(Id()) : null },
        _ => draft with { Body = Pick(["[]", "{}", "null", "1", "\"s\"", "[{}]", "[[[]]]", new string('[', 200) + new string(']', 200), "{\"a\":" + new string('[', 70) + new string(']', 70) + "}"]) },
    };

    private string? MutateJson(string? body)
    {
        if (body is null) return null;
        JsonNode? root;
        try { root = JsonNode.Parse(body, documentOptions: new System.Text.Json.JsonDocumentOptions { AllowDuplicateProperties = false, MaxDepth = 512 }); }
        catch (System.Text.Json.JsonException) { return body; } // already broken: other mutations keep working on it
        if (root is null) return body;
        var containers = new List<JsonNode>();
        Collect(root, containers);
        var target = containers[_random.Next(containers.Count)];
        switch (target)
        {
            case JsonObject obj when obj.Count > 0 && _random.Next(3) == 0:
                obj.Remove(obj.ElementAt(_random.Next(obj.Count)).Key);
                break;
            case JsonObject obj when obj.Count > 0 && _random.Next(2) == 0:
                obj[obj.ElementAt(_random.Next(obj.Count)).Key] = NastyValue();
                break;
            case JsonObject obj:
                obj[Pick([.. NastyStrings.Where(s => s.Length > 0), "type", "id", "value", "object", "observedAt", "datasetId", "createdAt", "unitCode", "scope", new string('n', 600)])] = NastyValue();
                break;
            case JsonArray array when array.Count > 0 && _random.Next(2) == 0:
                array[_random.Next(array.Count)] = NastyValue();
                break;
            case JsonArray array:
                array.Add(NastyValue());
                break;
        }
        return root.ToJsonString();
    }

    private JsonNode? NastyValue() => _random.Next(12) switch
    {
        0 => null,
        1 => JsonValue.Create(_random.Next(2) == 0),
        2 => JsonValue.Create(Pick([0.0, -1.0, 1e308, -1e308, 5e-324, 123456789012345678.0])),
        3 => JsonValue.Create(Pick(NastyStrings)),
        4 => JsonValue.Create(new string('x', _random.Next(1, 20_000))),
        5 => new JsonObject(),
        6 => new JsonArray(),
        7 => JsonNode.Parse(new string('[', 60) + new string(']', 60)),
        8 => new JsonObject { ["type"] = Pick(["Property", "Relationship", "GeoProperty", "LanguageProperty", "ListProperty", "JsonProperty", "VocabProperty", "ListRelationship", "Bogus"]), ["value"] = JsonValue.Create(Pick(NastyStrings)) },
        9 => new JsonObject { ["type"] = Pick(["Point", "Polygon", "LineString", "GeometryCollection", "MultiPoint"]), ["coordinates"] = JsonNode.Parse(Pick(["[]", "[1]", "[1e999,2]", "[[1,2],[3]]", "[\"a\",\"b\"]", "[181,91]", "[[[0,0],[1,1]]]"])) },
        10 => new JsonObject { ["@context"] = JsonValue.Create(Pick(["http://127.0.0.1:9/c.jsonld", "x", "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"])) },
        _ => JsonValue.Create(Pick(["urn:ngsi-ld:Fuzz:1", "urn:ngsi-ld:Fuzz:\u202E1", "not a uri", "2026-11-30T10:00:00Z", "2026-11-30T10:00:00+02:00"])),
    };

    private static void Collect(JsonNode node, List<JsonNode> into)
    {
        into.Add(node);
        if (node is JsonObject obj) foreach (var (_, child) in obj) { if (child is JsonObject or JsonArray) Collect(child, into); }
        else if (node is JsonArray array) foreach (var child in array) { if (child is JsonObject or JsonArray) Collect(child, into); }
    }

    private string? DuplicateMember(string? body)
    {
        if (body is null) return null;
        var brace = body.IndexOf('{');
        return brace < 0 ? body : body.Insert(brace + 1, Pick(["\"id\":\"urn:ngsi-ld:Fuzz:dup\",", "\"type\":\"Dup\",\"type\":\"Dup\",", "\"value\":1,\"value\":2,"]));
    }

    private byte[]? BreakBytes(string? body)
    {
        var bytes = Encoding.UTF8.GetBytes(body ?? "{}");
        return _random.Next(4) switch
        {
            0 => bytes[..(_random.Next(bytes.Length + 1))],
            1 => [.. bytes.Take(bytes.Length / 2), 0xFF, 0xFE, 0xC0, 0x80, .. bytes.Skip(bytes.Length / 2)],
            2 => Enumerable.Range(0, _random.Next(1, 200)).Select(_ => (byte)_random.Next(256)).ToArray(),
            _ => Encoding.UTF8.GetBytes((body ?? "{}").Replace("\"type\"", "\"type\u0000\"").Replace("Fuzz", "\\ud800Fuzz")),
        };
    }

    private string MutatePath(string path)
    {
        var segments = path.Split('/');
        var index = _random.Next(3, segments.Length + 1);
        var junk = Pick(["%00", "%2F", "..", "%ZZ", Uri.EscapeDataString(Pick(NastyStrings)), new string('a', 3000), "urn:ngsi-ld:Fuzz:%E2%80%AE1", "%C3%28", "%ED%A0%80", ""]);
        if (index >= segments.Length) return path + "/" + junk;
        segments[index] = junk;
        return string.Join('/', segments);
    }

    private T Pick<T>(IReadOnlyList<T> items) => items[_random.Next(items.Count)];

    /// <summary>A request before it becomes bytes; mutations edit this.</summary>
    private sealed record Draft(string Method, string Path, string? Body = null, IReadOnlyList<string>? Query = null, string? ContentType = null, string? Accept = null)
    {
        public IReadOnlyList<string> QueryParts { get; init; } = Query ?? [];
        public IReadOnlyList<(string Name, string Value)> Headers { get; init; } = [];
        public byte[]? RawBody { get; init; }
        public string? Tenant { get; init; }
    }

    private FuzzRequest BuildTenant(Draft draft, string? tenant)
    {
        var headers = new List<(string, string)>(draft.Headers);
        if (tenant is not null) headers.Add(("NGSILD-Tenant", tenant));
        if (draft.Accept is not null) headers.Add(("Accept", draft.Accept));
        var target = draft.QueryParts.Count == 0 ? draft.Path : draft.Path + "?" + string.Join("&", draft.QueryParts);
        var body = draft.RawBody ?? (draft.Body is null ? null : Encoding.UTF8.GetBytes(draft.Body));
        return new FuzzRequest(draft.Method, target, headers, body, body is null ? null : draft.ContentType ?? "application/json");
    }

    private FuzzRequest Build(Draft draft) => BuildTenant(draft, draft.Tenant ?? Pick(tenants));
}
