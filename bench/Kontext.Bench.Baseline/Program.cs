using System.Text.Json;
using Kontext.Bench.Baseline;

// The minimal equivalent of Kontext's entity work: POST /batch stores a JSON array of entities (id, type, doc),
// GET /entities/{id} is one indexed SELECT, PATCH /entities/{id}/attrs one durable UPDATE (json_patch), and
// GET /entities?type=&attr=&gt=&limit= one scan in rowid order. No JSON-LD, no history, no indexes beyond id and type.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var dataDirectory = builder.Configuration["DataDirectory"] ?? Path.Combine(Path.GetTempPath(), "kontext-baseline");
Directory.CreateDirectory(dataDirectory);
var store = new BaselineStore(Path.Combine(dataDirectory, "baseline.db"));
var app = builder.Build();
app.Lifetime.ApplicationStopping.Register(store.Dispose);

app.MapGet("/health", () => Results.Ok());

app.MapPost("/batch", async (HttpRequest request) =>
{
    using var batch = await JsonDocument.ParseAsync(request.Body);
    var rows = batch.RootElement.EnumerateArray()
        .Select(e => (e.GetProperty("id").GetString()!, e.GetProperty("type").GetString()!, e.GetRawText())).ToList();
    await store.InsertAsync(rows);
    return Results.Ok(rows.Count);
});

app.MapGet("/entities/{id}", (string id) =>
    store.Get(id) is { } doc ? Results.Text(doc, "application/json") : Results.NotFound());

app.MapMethods("/entities/{id}/attrs", ["PATCH"], async (string id, HttpRequest request) =>
{
    using var reader = new StreamReader(request.Body);
    var patch = await reader.ReadToEndAsync();
    return await store.PatchAsync(id, patch) ? Results.NoContent() : Results.NotFound();
});

app.MapGet("/entities", (string type, string attr, double gt, int limit) =>
    Results.Text("[" + string.Join(",", store.Query(type, attr, gt, limit)) + "]", "application/json"));

app.Run();
