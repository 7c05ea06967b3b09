using Kontext.Adapters;
using System.Text.Json.Nodes;
using Kontext.Broker.Hosting;
using Kontext.Broker.Http;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Storage;
using Microsoft.Extensions.Options;

namespace Kontext.Broker.Adapters;

/// <summary>
/// Operator endpoints (an admin principal, or X-Admin-Key matching Kontext:Adapters:AdminApiKey; without either 403;
/// tenant from NGSILD-Tenant):
/// GET /adapters/deadletters[?status=pending|replayed&amp;limit=n], GET|DELETE /adapters/deadletters/{id},
/// POST /adapters/deadletters/{id}/replay, POST /adapters/deadletters/replay (every pending one),
/// GET /adapters/validation, PUT|DELETE /adapters/validation/{type} {"mode": "off|warn|enforce"},
/// GET /adapters/mappings, POST /adapters/mappings/reload, GET /adapters/contexts/{subject}.jsonld.
/// Dead letters and modes are the tenant's own (<see cref="AdapterStores"/>): reading a tenant that does not exist finds none.
/// </summary>
internal static class AdminEndpoints
{
    /// <summary>Admin bodies are a few members ({"mode": ...}); nothing larger is read.</summary>
    private const long AdminBodyLimit = 16 * 1024;

    public static void Map(IEndpointRouteBuilder adapters)
    {
        // Guarded by the access check (Security/RouteRights: AdapterAdmin), fail-closed.
        var admin = adapters;

        admin.MapGet("deadletters", async (HttpContext http, AdapterStores stores) =>
        {
            var status = http.Request.Query["status"].ToString() is { Length: > 0 } s ? s : null;
            var limit = int.TryParse(http.Request.Query["limit"], out var l) && l is > 0 and <= 1000 ? l : 100;
            var store = await stores.ForAsync(Tenant(http), create: false, http.RequestAborted);
            var letters = store is null ? [] : await store.ListDeadLettersAsync(status, limit, http.RequestAborted);
            return Results.Json(letters.Select(Describe));
        });
        admin.MapGet("deadletters/{id}", async (HttpContext http, string id, AdapterStores stores) =>
            Results.Json(Describe((await Find(stores, http, id)).Letter)));
        admin.MapDelete("deadletters/{id}", async (HttpContext http, string id, AdapterStores stores) =>
        {
            var (store, _) = await Find(stores, http, id);
            await store.DeleteDeadLetterAsync(id, http.RequestAborted);
            return Results.NoContent();
        });
        admin.MapPost("deadletters/{id}/replay", async (HttpContext http, string id, AdapterStores stores, AdapterIngest ingest) =>
        {
            var (_, letter) = await Find(stores, http, id);
            var (_, result) = await ingest.ReplayAsync(letter, http.RequestAborted);
            await IngestHttp.WriteAsync(http, result);
        });
        admin.MapPost("deadletters/replay", async (HttpContext http, AdapterStores stores, AdapterIngest ingest) =>
        {
            var store = await stores.ForAsync(Tenant(http), create: false, http.RequestAborted);
            var pending = store is null ? [] : await store.ListDeadLettersAsync("pending", 1000, http.RequestAborted);
            var outcomes = new JsonArray();
            foreach (var letter in pending.Reverse())
            {
                var (_, result) = await ingest.ReplayAsync(letter, http.RequestAborted);
                var item = IngestHttp.Describe(result);
                item["deadLetter"] = letter.Id;
                outcomes.Add(item);
            }
            return Results.Json(outcomes);
        });

        admin.MapGet("validation", async (HttpContext http, AdapterStores stores, SchemaRegistry schemas, IOptions<AdapterOptions> options) =>
        {
            var store = await stores.ForAsync(Tenant(http), create: false, http.RequestAborted);
            var modes = store is null ? new Dictionary<string, ValidationMode>() : await store.ListValidationModesAsync(http.RequestAborted);
            return Results.Json(new
            {
                @default = options.Value.DefaultValidation.ToLowerInvariant(),
                types = modes.ToDictionary(m => m.Key, m => m.Value.ToString().ToLowerInvariant()),
                schemas = schemas.Types.Order(),
            });
        });
        admin.MapPut("validation/{type}", async (HttpContext http, string type, AdapterStores stores) =>
        {
            NgsiRequest.ContentKind(http.Request.ContentType);
            var body = await NgsiRequest.ReadJsonAsync(http, AdminBodyLimit) as JsonObject;
            var text = body?["mode"] is JsonValue v && v.TryGetValue<string>(out var m) ? m : null;
            if (text is null || !Enum.TryParse<ValidationMode>(text, ignoreCase: true, out var mode) || int.TryParse(text, out _))
                throw NgsiException.BadRequestData("The body must be {\"mode\": \"off\" | \"warn\" | \"enforce\"}");
            var store = await stores.CreateAsync(Tenant(http), http.RequestAborted);
            await store.SetValidationModeAsync(type, mode, http.RequestAborted);
            return Results.NoContent();
        });
        admin.MapDelete("validation/{type}", async (HttpContext http, string type, AdapterStores stores) =>
        {
            if (await stores.ForAsync(Tenant(http), create: false, http.RequestAborted) is { } store)
                await store.SetValidationModeAsync(type, null, http.RequestAborted);
            return Results.NoContent();
        });

        admin.MapGet("mappings", (MappingCatalog catalog) => Results.Json(new
        {
            directory = catalog.Directory,
            mappings = catalog.Mappings.Select(m => new
            {
                name = m.Name,
                file = Path.GetFileName(m.Definition.File),
                models = m.Definition.Match.Models,
                deviceProfiles = m.Definition.Match.DeviceProfiles,
                types = m.Definition.Entities.Select(e => e.Type),
            }),
            errors = catalog.Errors,
        }));
        admin.MapPost("mappings/reload", (MappingCatalog catalog) =>
        {
            var errors = catalog.Reload();
            return Results.Json(new { loaded = catalog.Mappings.Count, errors });
        });

        adapters.MapGet("contexts/{subject}.jsonld", (string subject, AdapterEntityWriter writer) =>
            writer.ContextDocument(subject) is { } document
                ? Results.Text(document.ToJsonString(), "application/ld+json")
                : throw NgsiException.NotFound($"No smart-data-models @context for subject '{subject}'"));
    }

    private static string? Tenant(HttpContext http) => NgsiRequest.ReadTenant(http);

    private static async Task<(IAdapterStore Store, DeadLetter Letter)> Find(AdapterStores stores, HttpContext http, string id) =>
        await stores.ForAsync(Tenant(http), create: false, http.RequestAborted) is { } store
        && await store.GetDeadLetterAsync(id, http.RequestAborted) is { } letter
            ? (store, letter)
            : throw NgsiException.NotFound($"No dead letter '{id}'");

    private static JsonObject Describe(DeadLetter l) => new()
    {
        ["id"] = l.Id,
        ["source"] = l.Source,
        ["kind"] = l.Kind,
        ["device"] = l.Device,
        ["reason"] = l.Reason,
        ["detail"] = l.Detail,
        ["status"] = l.Status,
        ["attempts"] = l.Attempts,
        ["receivedAt"] = l.ReceivedAt.ToString("O"),
        ["lastAttemptAt"] = l.LastAttemptAt.ToString("O"),
        ["payload"] = PayloadNode(l.Payload),
    };

    /// <summary>The stored payload as JSON, or as a string when it never was JSON (a malformed message kept for inspection).</summary>
    private static JsonNode? PayloadNode(string payload)
    {
        try { return Kontext.Ngsi.Formats.StoredJson.Parse(payload); }
        catch (System.Text.Json.JsonException) { return JsonValue.Create(payload); }
    }
}
