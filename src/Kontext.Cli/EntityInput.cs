using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kontext.Cli;

/// <summary>One item read from an input: where it was (file and line, or position in an array) and the entity, or why it is not one.</summary>
internal sealed record InputItem(string Source, long Position, JsonObject? Entity, string? Error)
{
    public string Where => $"{Source}:{Position}";
    public string? Id => Entity?["id"] is JsonValue id && id.TryGetValue<string>(out var text) ? text : null;
}

/// <summary>
/// Reads entities from files: NDJSON (one entity per line; .ndjson, .jsonl, or any file whose first line is a whole JSON
/// object with more lines after it), a JSON array of entities (streamed element by element), or one JSON entity (the
/// smart-data-models example files). Progress is the share of the input bytes read.
/// </summary>
internal sealed class EntityInput(IReadOnlyList<string> files)
{
    private long _bytesBefore;
    private Stream? _current;

    public long TotalBytes { get; } = files.Sum(f => f == "-" ? 0 : new FileInfo(f).Length);

    /// <summary>Bytes consumed so far over every file.</summary>
    public long BytesRead => _bytesBefore + (_current is { CanSeek: true } s ? s.Position : 0);

    public async IAsyncEnumerable<InputItem> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var file in files)
        {
            await using var stream = file == "-" ? await BufferStdinAsync(cancellationToken) : File.OpenRead(file);
            _current = stream;
            await foreach (var item in ReadFileAsync(file, stream, cancellationToken)) yield return item;
            _bytesBefore += stream.CanSeek ? stream.Length : 0;
            _current = null;
        }
    }

    private static async IAsyncEnumerable<InputItem> ReadFileAsync(string name, Stream stream, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var kind = await DetectAsync(name, stream, cancellationToken);
        stream.Position = 0;
        if (kind == Kind.Array)
        {
            long index = 0;
            var items = JsonSerializer.DeserializeAsyncEnumerable<JsonNode?>(stream, cancellationToken: cancellationToken);
            await using var enumerator = items.GetAsyncEnumerator(cancellationToken);
            while (true)
            {
                InputItem? failed = null;
                JsonNode? node = null;
                try
                {
                    if (!await enumerator.MoveNextAsync()) break;
                    node = enumerator.Current;
                }
                catch (JsonException ex)
                {
                    failed = new InputItem(name, index + 1, null, $"the JSON array cannot be read past this item: {ex.Message}");
                }
                index++;
                if (failed is not null)
                {
                    yield return failed;
                    yield break;
                }
                yield return Item(name, index, node);
            }
        }
        else if (kind == Kind.Single)
        {
            JsonNode? node;
            string? error = null;
            try { node = await JsonNode.ParseAsync(stream, cancellationToken: cancellationToken); }
            catch (JsonException ex) { node = null; error = $"not valid JSON: {ex.Message}"; }
            yield return error is null ? Item(name, 1, node) : new InputItem(name, 1, null, error);
        }
        else
        {
            using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16, leaveOpen: true);
            long line = 0;
            while (await reader.ReadLineAsync(cancellationToken) is { } text)
            {
                line++;
                if (string.IsNullOrWhiteSpace(text)) continue;
                JsonNode? node;
                string? error = null;
                try { node = JsonNode.Parse(text); }
                catch (JsonException ex) { node = null; error = $"not valid JSON: {ex.Message}"; }
                yield return error is null ? Item(name, line, node) : new InputItem(name, line, null, error);
            }
        }
    }

    private static InputItem Item(string source, long position, JsonNode? node) => node is JsonObject entity
        ? new InputItem(source, position, entity, null)
        : new InputItem(source, position, null, "not a JSON object (an entity)");

    private enum Kind { Lines, Array, Single }

    private static async Task<Kind> DetectAsync(string name, Stream stream, CancellationToken cancellationToken)
    {
        if (name.EndsWith(".ndjson", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase)) return Kind.Lines;
        using var reader = new StreamReader(stream, Encoding.UTF8, true, 1 << 16, leaveOpen: true);
        var first = await reader.ReadLineAsync(cancellationToken);
        while (first is not null && string.IsNullOrWhiteSpace(first)) first = await reader.ReadLineAsync(cancellationToken);
        var trimmed = first?.TrimStart('\uFEFF', ' ', '\t') ?? "";
        if (trimmed.StartsWith('[')) return Kind.Array;
        // A first line that is a whole object, with more after it: NDJSON. A pretty-printed entity starts with a lone "{".
        try
        {
            if (JsonNode.Parse(trimmed) is JsonObject)
            {
                var next = await reader.ReadLineAsync(cancellationToken);
                while (next is not null && string.IsNullOrWhiteSpace(next)) next = await reader.ReadLineAsync(cancellationToken);
                return next is null ? Kind.Single : Kind.Lines;
            }
        }
        catch (JsonException) { }
        return Kind.Single;
    }

    private static async Task<Stream> BufferStdinAsync(CancellationToken cancellationToken)
    {
        var buffer = new MemoryStream();
        await using var stdin = Console.OpenStandardInput();
        await stdin.CopyToAsync(buffer, cancellationToken);
        buffer.Position = 0;
        return buffer;
    }
}
