using Kontext.Adapters;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Errors;

namespace Kontext.Broker.Adapters;

/// <summary>
/// The HTTP side of one ingest request, shared by the per-source endpoints: guard, ingest, answer.
/// 200 {status: stored|duplicate|ignored, entities, warnings} (warn findings also in an NGSILD-Warning header);
/// 202 {status: deadLettered, deadLetter, reason, detail}; 400 BadRequestData for a malformed envelope, or under enforce
/// with one "violations" item per schema violation (the uplink is dead-lettered too).
/// </summary>
internal static class IngestHttp
{
    public const string WarningHeader = "NGSILD-Warning";

    public static async Task HandleAsync(HttpContext http, string kind, string source, SourceGuard guard, AdapterIngest ingest)
    {
        var settings = guard.Authenticate(http.Request, source, kind);
        guard.Admit(source, settings);
        var payload = await SourceGuard.ReadBodyAsync(http.Request, settings, http.RequestAborted);
        IngestResult result;
        try
        {
            result = await ingest.IngestAsync(source, kind, settings.Tenant, payload, http.RequestAborted);
        }
        catch (EnvelopeException ex)
        {
            throw NgsiException.BadRequestData($"Malformed {kind} uplink: {ex.Message}");
        }
        await WriteAsync(http, result);
    }

    public static async Task WriteAsync(HttpContext http, IngestResult result)
    {
        var body = Describe(result);
        int status;
        switch (result.Status)
        {
            case IngestStatus.Rejected:
                status = 400;
                body["type"] = NgsiError.TypeBase + "BadRequestData";
                body["title"] = "Bad request data";
                body["status"] = 400;
                body["detail"] = $"The mapped entities violate their smart-data-models schema ({result.Findings.Count} violations); the uplink is kept as dead letter {result.DeadLetter!.Id}";
                break;
            case IngestStatus.DeadLettered:
                status = 202;
                break;
            default:
                status = 200;
                if (result.Findings.Count > 0)
                    http.Response.Headers[WarningHeader] = string.Join(", ", result.Findings.Select(f =>
                        $"199 kontext \"{f.Type} {f.EntityId} {f.Path}: {f.Message.Replace('"', '\'')}\""));
                break;
        }
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(body.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }), http.RequestAborted);
    }

    public static JsonObject Describe(IngestResult result)
    {
        var body = new JsonObject
        {
            ["status"] = result.Status switch
            {
                IngestStatus.Stored => "stored",
                IngestStatus.Duplicate => "duplicate",
                IngestStatus.Ignored => "ignored",
                IngestStatus.Rejected => "rejected",
                _ => "deadLettered",
            },
        };
        if (result.EntityIds.Count > 0) body["entities"] = new JsonArray(result.EntityIds.Select(id => (JsonNode?)id).ToArray());
        var findings = new JsonArray(result.Findings.Select(f => (JsonNode?)new JsonObject
        {
            ["entity"] = f.EntityId, ["type"] = f.Type, ["path"] = f.Path, ["message"] = f.Message,
        }).ToArray());
        if (result.Status == IngestStatus.Rejected) body["violations"] = findings;
        else if (findings.Count > 0) body["warnings"] = findings;
        if (result.DeadLetter is { } letter)
        {
            body["deadLetter"] = letter.Id;
            body["reason"] = letter.Reason;
            body["detail"] = letter.Detail;
        }
        return body;
    }
}
