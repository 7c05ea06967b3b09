using System.CommandLine;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Kontext.Cli;

/// <summary>
/// kontext export: every entity of a tenant (or of --type) as NDJSON, one entity per line with its @context, streamed
/// page by page (GET /ngsi-ld/v1/entities, application/ld+json, pages of --page-size). The lines import again unchanged
/// with kontext import. Pages are read by offset while the broker keeps working: entities created or deleted during
/// the export may be missed or seen twice; `kontext backup` is the consistent copy. History is not exported.
/// </summary>
internal static class ExportCommand
{
    public static Command Create(CliContext cli)
    {
        var output = new Option<string>("--out", "-o") { Description = "NDJSON file to write (- for standard output)", DefaultValueFactory = _ => "-" };
        var type = new Option<string?>("--type") { Description = "Only entities of this type (expanded with --context)" };
        var context = new Option<string?>("--context") { Description = "@context URL the entities are compacted with (default: the NGSI-LD core context)" };
        var pageSize = new Option<int>("--page-size") { Description = "Entities per request (at most the broker's Kontext:Limits:MaxPageSize)", DefaultValueFactory = _ => 500 };
        var command = new Command("export", "Export a tenant's entities to NDJSON (streaming)") { output, type, context, pageSize };
        command.SetAction(async (parsed, cancellationToken) =>
        {
            using var client = cli.Broker.CreateClient(parsed, cli.Handler);
            var target = parsed.GetValue(output)!;
            var toStdout = target == "-";
            await using var stream = toStdout ? Console.OpenStandardOutput() : File.Create(target);
            var exporter = new Exporter(client, parsed.GetValue(type), parsed.GetValue(context), Math.Clamp(parsed.GetValue(pageSize), 1, 1000));
            try
            {
                long written;
                if (toStdout) written = await exporter.RunAsync(stream, _ => { }, cancellationToken);
                else
                {
                    written = 0;
                    await cli.Console.Progress().AutoClear(false)
                        .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn())
                        .StartAsync(async progress =>
                        {
                            var task = progress.AddTask("export", maxValue: 1);
                            written = await exporter.RunAsync(stream, state =>
                            {
                                task.MaxValue = Math.Max(1, state.Total ?? state.Written);
                                task.Value = state.Written;
                                task.Description = $"{state.Written} entities";
                            }, cancellationToken);
                        });
                    cli.Console.MarkupLineInterpolated($"{written} entities written to [bold]{Path.GetFullPath(target)}[/]");
                }
                return CliContext.Ok;
            }
            catch (ExportFailedException ex)
            {
                return cli.Fail(ex.Message);
            }
        });
        return command;
    }
}

internal sealed class ExportFailedException(string message) : Exception(message);

internal sealed class Exporter(HttpClient client, string? type, string? context, int pageSize)
{
    public sealed record State(long Written, long? Total);

    public async Task<long> RunAsync(Stream output, Action<State> progress, CancellationToken cancellationToken)
    {
        long written = 0;
        long? total = null;
        var newline = "\n"u8.ToArray();
        for (var offset = 0L; ; offset += pageSize)
        {
            var query = $"ngsi-ld/v1/entities?limit={pageSize}&offset={offset}" + (offset == 0 ? "&count=true" : "")
                        + (type is null ? "&local=true" : "&type=" + Uri.EscapeDataString(type));
            using var request = new HttpRequestMessage(HttpMethod.Get, query);
            request.Headers.Accept.ParseAdd("application/ld+json");
            if (context is not null)
                request.Headers.TryAddWithoutValidation("Link", $"<{context}>; rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\"");
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (!response.IsSuccessStatusCode)
                throw new ExportFailedException($"GET {query} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
            if (offset == 0 && response.Headers.TryGetValues("NGSILD-Results-Count", out var counts) && long.TryParse(counts.First(), out var count)) total = count;
            var page = 0;
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            await foreach (var entity in JsonSerializer.DeserializeAsyncEnumerable<JsonObject>(body, cancellationToken: cancellationToken))
            {
                if (entity is null) continue;
                await output.WriteAsync(Encoding.UTF8.GetBytes(entity.ToJsonString()), cancellationToken);
                await output.WriteAsync(newline, cancellationToken);
                page++;
                written++;
            }
            progress(new State(written, total));
            if (page < pageSize) break;
        }
        await output.FlushAsync(cancellationToken);
        return written;
    }
}
