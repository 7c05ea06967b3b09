using System.Text.Json;

namespace Kontext.Cli;

/// <summary>
/// Where an import stands, kept in a small JSON file beside the first input (or --state) after every batch: the inputs
/// (path, size, modification time) and how many items of them are done. A later run over the same unchanged inputs
/// starts after those items; anything else starts from the beginning. Upserts are idempotent, so the batch that was in
/// flight when an import stopped is simply sent again. The file is removed when the import completes.
/// </summary>
internal sealed class ImportCheckpoint
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };
    private readonly string _path;
    private readonly List<InputFingerprint> _inputs;

    private ImportCheckpoint(string path, List<InputFingerprint> inputs, long done)
    {
        _path = path;
        _inputs = inputs;
        Done = done;
    }

    public long Done { get; private set; }
    public string Path => _path;

    public static string DefaultPath(IReadOnlyList<string> files) =>
        files.Count > 0 && files[0] != "-" ? files[0] + ".kontext-import" : ".kontext-import";

    /// <summary>The saved position when it belongs to these inputs (and <paramref name="restart"/> is false), else a fresh start.</summary>
    public static ImportCheckpoint Open(string path, IReadOnlyList<string> files, bool restart)
    {
        var inputs = files.Select(InputFingerprint.Of).ToList();
        if (!restart && File.Exists(path))
        {
            try
            {
                var saved = JsonSerializer.Deserialize<Saved>(File.ReadAllText(path), Json);
                if (saved is not null && saved.Inputs.SequenceEqual(inputs)) return new ImportCheckpoint(path, inputs, saved.Done);
            }
            catch (JsonException) { } // an unreadable checkpoint is a fresh start
        }
        return new ImportCheckpoint(path, inputs, 0);
    }

    /// <summary>Records that the first <paramref name="done"/> items are handled (imported or reported).</summary>
    public void Save(long done)
    {
        Done = done;
        if (_inputs.Any(i => i.Path == "-")) return; // standard input cannot be read again: nothing to resume
        var temporary = _path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(new Saved(_inputs, done), Json));
        File.Move(temporary, _path, overwrite: true);
    }

    public void Complete()
    {
        if (File.Exists(_path)) File.Delete(_path);
    }

    private sealed record Saved(List<InputFingerprint> Inputs, long Done);

    internal sealed record InputFingerprint(string Path, long Length, DateTime Modified)
    {
        public static InputFingerprint Of(string file) => file == "-"
            ? new InputFingerprint("-", 0, default)
            : new InputFingerprint(System.IO.Path.GetFullPath(file), new FileInfo(file).Length, File.GetLastWriteTimeUtc(file));
    }
}
