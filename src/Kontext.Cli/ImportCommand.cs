using System.CommandLine;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Kontext.Cli;

/// <summary>
/// kontext import FILE...: entities from NGSI-LD JSON files, JSON arrays, NDJSON or the smart-data-models example files,
/// sent unchanged in batch upserts (POST /ngsi-ld/v1/entityOperations/upsert, application/ld+json). An entity without an
/// @context gets the --context URLs (default: the NGSI-LD core context); nothing else is touched. A progress bar follows
/// the bytes read; the position is saved after every batch, so running the same command again after a failure resumes
/// (--restart starts over). Entities the broker refuses are listed with the reason, the whole list in a report (NDJSON).
/// Exit code 0: all imported; 2: some refused; 1: the import stopped (resumable).
/// </summary>
internal static class ImportCommand
{
    public const string CoreContext = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld";

    public static Command Create(CliContext cli)
    {
        var files = new Argument<string[]>("files") { Description = "Input files (.json, .jsonld, .ndjson, .jsonl; - for standard input)", Arity = ArgumentArity.OneOrMore };
        var context = new Option<string[]>("--context") { Description = "@context URL for entities without their own (repeatable; default: the NGSI-LD core context)" };
        var batchSize = new Option<int>("--batch-size") { Description = "Entities per upsert request (at most the broker's Kontext:Limits:MaxBatchSize)", DefaultValueFactory = _ => 200 };
        var maxBytes = new Option<int>("--max-batch-bytes") { Description = "Largest request body (below the broker's Kontext:Limits:MaxRequestBodyBytes)", DefaultValueFactory = _ => 1_500_000 };
        var mode = new Option<string>("--mode") { Description = "replace: an existing entity is replaced; update: its attributes are updated", DefaultValueFactory = _ => "replace" };
        mode.AcceptOnlyFromAmong("replace", "update");
        var state = new Option<string?>("--state") { Description = "Checkpoint file (default: <first file>.kontext-import)" };
        var restart = new Option<bool>("--restart") { Description = "Ignore a saved checkpoint and start from the beginning" };
        var report = new Option<string>("--report") { Description = "Where refused entities are listed (NDJSON)", DefaultValueFactory = _ => "kontext-import-refused.ndjson" };
        var command = new Command("import", "Import entities with batch upserts (resumable, with a report of refused entities)")
        {
            files, context, batchSize, maxBytes, mode, state, restart, report,
        };
        command.SetAction(async (parsed, cancellationToken) =>
        {
            var inputs = parsed.GetValue(files)!;
            foreach (var file in inputs.Where(f => f != "-" && !File.Exists(f))) return cli.Fail($"{file} does not exist");
            var size = parsed.GetValue(batchSize);
            if (size is < 1 or > 1000) return cli.Fail("--batch-size must be between 1 and 1000");
            using var client = cli.Broker.CreateClient(parsed, cli.Handler);
            var contexts = parsed.GetValue(context) is { Length: > 0 } given ? given : [CoreContext];
            var importer = new Importer(cli, client, contexts, size, parsed.GetValue(maxBytes), parsed.GetValue(mode)!, parsed.GetValue(report)!);
            var checkpoint = ImportCheckpoint.Open(parsed.GetValue(state) ?? ImportCheckpoint.DefaultPath(inputs), inputs, parsed.GetValue(restart));
            return await importer.RunAsync(new EntityInput(inputs), checkpoint, cancellationToken);
        });
        return command;
    }
}

/// <summary>One import run: batches, answers, counts and the report.</summary>
internal sealed class Importer(CliContext cli, HttpClient client, string[] contexts, int batchSize, int maxBatchBytes, string mode, string reportPath)
{
    private const int ShownRefusals = 10;
    private static readonly JsonSerializerOptions ReportJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly List<(InputItem Item, string Reason)> _shown = [];
    private StreamWriter? _report;
    private long _created, _updated, _refused, _read;

    /// <summary>A stop that leaves the checkpoint in place: access refused, or the broker unreachable after retries.</summary>
    private sealed class ImportStopped(string reason) : Exception(reason);

    public async Task<int> RunAsync(EntityInput input, ImportCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        if (checkpoint.Done > 0) cli.Console.MarkupLineInterpolated($"Resuming after item {checkpoint.Done} ([grey]{checkpoint.Path}[/]; --restart to start over)");
        string? stopped = null;
        try
        {
            await cli.Console.Progress().AutoClear(false).HideCompleted(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .StartAsync(async progress =>
                {
                    var task = progress.AddTask("import", maxValue: Math.Max(1, input.TotalBytes));
                    task.IsIndeterminate = input.TotalBytes == 0;
                    void Show()
                    {
                        task.Value = Math.Min(task.MaxValue, input.BytesRead);
                        task.Description = $"{_created + _updated} imported, {_refused} refused";
                    }
                    var batch = new List<(InputItem Item, string Json)>();
                    long batchBytes = 0, consumed = 0;
                    await foreach (var item in input.ReadAsync(cancellationToken))
                    {
                        consumed++;
                        if (consumed <= checkpoint.Done) continue;
                        _read++;
                        if (item.Entity is null)
                        {
                            Refuse(item, "invalid", item.Error!);
                            continue;
                        }
                        if (!item.Entity.ContainsKey("@context"))
                            item.Entity["@context"] = contexts.Length == 1 ? contexts[0] : new JsonArray(contexts.Select(c => (JsonNode?)c).ToArray());
                        var json = item.Entity.ToJsonString();
                        var bytes = Encoding.UTF8.GetByteCount(json) + 1;
                        if (batch.Count > 0 && (batch.Count >= batchSize || batchBytes + bytes > maxBatchBytes))
                        {
                            await SendAsync(batch, cancellationToken);
                            checkpoint.Save(consumed - 1);
                            batch.Clear();
                            batchBytes = 0;
                            Show();
                        }
                        batch.Add((item, json));
                        batchBytes += bytes;
                    }
                    if (batch.Count > 0) await SendAsync(batch, cancellationToken);
                    checkpoint.Save(consumed);
                    Show();
                    task.Value = task.MaxValue;
                });
            checkpoint.Complete();
        }
        catch (ImportStopped ex)
        {
            stopped = ex.Message;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            stopped = "cancelled";
        }
        finally
        {
            if (_report is not null) await _report.DisposeAsync();
        }
        Summarize(checkpoint, stopped);
        return stopped is not null ? CliContext.Failed : _refused > 0 ? CliContext.Partly : CliContext.Ok;
    }

    private async Task SendAsync(List<(InputItem Item, string Json)> batch, CancellationToken cancellationToken)
    {
        var body = "[" + string.Join(",", batch.Select(b => b.Json)) + "]";
        for (var attempt = 1; ; attempt++)
        {
            HttpResponseMessage response;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "ngsi-ld/v1/entityOperations/upsert" + (mode == "update" ? "?options=update" : ""))
                {
                    Content = new StringContent(body, Encoding.UTF8, "application/ld+json"),
                };
                request.Content.Headers.ContentType!.CharSet = null;
                response = await client.SendAsync(request, cancellationToken);
            }
            catch (HttpRequestException ex)
            {
                await RetryOrStopAsync(attempt, null, $"the broker cannot be reached ({ex.Message})", cancellationToken);
                continue;
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                await RetryOrStopAsync(attempt, null, "the broker did not answer in time", cancellationToken);
                continue;
            }
            using (response)
            {
                var text = await response.Content.ReadAsStringAsync(cancellationToken);
                switch ((int)response.StatusCode)
                {
                    case 201:
                        var created = JsonNode.Parse(text) is JsonArray ids ? ids.Count : 0;
                        _created += created;
                        _updated += batch.Count - created;
                        return;
                    case 204:
                        _updated += batch.Count;
                        return;
                    case 207:
                        Account(batch, JsonNode.Parse(text) as JsonObject);
                        return;
                    case 401 or 403:
                        throw new ImportStopped($"the broker refused access ({(int)response.StatusCode}): {Detail(text)}");
                    case 429 or 502 or 503 or 504 or 500:
                        await RetryOrStopAsync(attempt, response.Headers.RetryAfter?.Delta, $"HTTP {(int)response.StatusCode}: {Detail(text)}", cancellationToken);
                        continue;
                    case >= 400 and < 500 when batch.Count > 1:
                        // A fault of the request as a whole (too large, say): halves isolate the entity that causes it.
                        var half = batch.Count / 2;
                        await SendAsync(batch.GetRange(0, half), cancellationToken);
                        await SendAsync(batch.GetRange(half, batch.Count - half), cancellationToken);
                        return;
                    default:
                        Refuse(batch[0].Item, ProblemType(text) ?? $"HTTP {(int)response.StatusCode}", Detail(text));
                        return;
                }
            }
        }
    }

    private static async Task RetryOrStopAsync(int attempt, TimeSpan? retryAfter, string reason, CancellationToken cancellationToken)
    {
        if (attempt >= 5) throw new ImportStopped(reason + "; run the same command again to resume");
        await Task.Delay(retryAfter ?? TimeSpan.FromMilliseconds(500 * (1 << (attempt - 1))), cancellationToken);
    }

    /// <summary>A BatchOperationResult: errors are matched back to the batch's items by entity id, in order.</summary>
    private void Account(List<(InputItem Item, string Json)> batch, JsonObject? result)
    {
        var byId = new Dictionary<string, Queue<InputItem>>(StringComparer.Ordinal);
        foreach (var (item, _) in batch)
        {
            var key = item.Id ?? "";
            if (!byId.TryGetValue(key, out var queue)) byId[key] = queue = new Queue<InputItem>();
            queue.Enqueue(item);
        }
        var errors = result?["errors"] as JsonArray ?? [];
        foreach (var error in errors.OfType<JsonObject>())
        {
            var id = error["entityId"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";
            var item = byId.TryGetValue(id, out var queue) && queue.Count > 0 ? queue.Dequeue() : new InputItem("?", 0, null, null);
            var problem = error["error"] as JsonObject;
            Refuse(item, ShortType(problem?["type"]?.GetValue<string>()) ?? "refused", problem?["detail"]?.GetValue<string>() ?? problem?["title"]?.GetValue<string>() ?? "refused");
        }
        _updated += batch.Count - errors.Count; // a 207 does not tell created from replaced: counted as imported
    }

    private void Refuse(InputItem item, string type, string detail)
    {
        _refused++;
        if (_shown.Count < ShownRefusals) _shown.Add((item, $"{type}: {detail}"));
        _report ??= new StreamWriter(reportPath, append: false, new UTF8Encoding(false));
        _report.WriteLine(new JsonObject
        {
            ["source"] = item.Source, ["position"] = item.Position, ["entityId"] = item.Id, ["type"] = type, ["detail"] = detail,
        }.ToJsonString(ReportJson));
    }

    private void Summarize(ImportCheckpoint checkpoint, string? stopped)
    {
        var table = new Table().AddColumns("read", "imported", "of which created", "refused");
        table.AddRow(_read.ToString(), (_created + _updated).ToString(), _created.ToString(), _refused.ToString());
        cli.Console.Write(table);
        if (_shown.Count > 0)
        {
            var refusals = new Table().AddColumns("where", "entity", "reason");
            foreach (var (item, reason) in _shown) refusals.AddRow(Markup.Escape(item.Where), Markup.Escape(item.Id ?? "-"), Markup.Escape(reason));
            cli.Console.Write(refusals);
            cli.Console.MarkupLineInterpolated($"{_refused} refused; the list is in [bold]{Path.GetFullPath(reportPath)}[/]");
        }
        if (stopped is not null)
            cli.Console.MarkupLineInterpolated($"[red]Import stopped:[/] {stopped}. Position saved in {checkpoint.Path}: the same command resumes.");
    }

    private static string? ProblemType(string body) => ShortType(TryParse(body)?["type"]?.GetValue<string>());

    private static string Detail(string body) => TryParse(body)?["detail"]?.GetValue<string>() ?? (body.Length > 200 ? body[..200] : body);

    private static string? ShortType(string? type) => type is null ? null : type[(type.LastIndexOfAny(['/', ':']) + 1)..];

    private static JsonObject? TryParse(string body)
    {
        try { return JsonNode.Parse(body) as JsonObject; }
        catch (JsonException) { return null; }
    }
}
