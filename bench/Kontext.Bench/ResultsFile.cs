using System.Runtime.InteropServices;
using System.Text;

namespace Kontext.Bench;

/// <summary>
/// RESULTS.md is made of sections, one per phase group, between `&lt;!-- bench:NAME --&gt;` markers: a run replaces
/// the sections of the groups it ran and keeps the others (so `--only temporal` leaves the 100k results in place).
/// </summary>
internal static class ResultsFile
{
    public const string Title = "# Kontext benchmark results";

    public static void WriteSection(string path, string name, string content)
    {
        var begin = $"<!-- bench:{name} -->";
        var end = $"<!-- /bench:{name} -->";
        var block = begin + "\n" + content.TrimEnd() + "\n" + end;
        var text = File.Exists(path) ? File.ReadAllText(path) : Title + "\n";
        var from = text.IndexOf(begin, StringComparison.Ordinal);
        var to = text.IndexOf(end, StringComparison.Ordinal);
        text = from >= 0 && to > from
            ? text[..from] + block + text[(to + end.Length)..]
            : text.TrimEnd() + "\n\n" + block + "\n";
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    /// <summary>The common head of a results section: title, how it was run, the table, the machine, then the set-up heading.</summary>
    public static System.Text.StringBuilder SectionHead(string title, string command, IEnumerable<(string Metric, string Value)> rows)
    {
        var sb = new System.Text.StringBuilder();
        sb.AppendLine(title);
        sb.AppendLine();
        sb.AppendLine($"Run {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC with `{command}`.");
        sb.AppendLine();
        sb.Append(Table(rows));
        sb.AppendLine();
        sb.AppendLine("### Machine");
        sb.AppendLine();
        sb.Append(Machine());
        sb.AppendLine();
        sb.AppendLine("### Set-up");
        sb.AppendLine();
        return sb;
    }

    public static string Table(IEnumerable<(string Metric, string Value)> rows)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| metric | value |");
        sb.AppendLine("|---|---|");
        foreach (var (metric, value) in rows) sb.AppendLine($"| {metric.Replace("|", "\\|")} | {value.Replace("|", "\\|")} |");
        return sb.ToString();
    }

    /// <summary>The machine, as bullet lines.</summary>
    public static string Machine()
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        string sqliteVersion;
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection("Data Source=:memory:"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT sqlite_version()";
            sqliteVersion = (string)command.ExecuteScalar()!;
        }
        var memoryGb = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1024.0 / 1024 / 1024;
        var sb = new StringBuilder();
        sb.AppendLine($"- Cores: {Environment.ProcessorCount}{(cpu is null ? "" : $" ({cpu})")}, memory available to .NET {memoryGb:F1} GiB");
        sb.AppendLine($"- OS: {RuntimeInformation.OSDescription} ({RuntimeInformation.OSArchitecture})");
        sb.AppendLine($"- .NET: {RuntimeInformation.FrameworkDescription}; SQLite {sqliteVersion} (Microsoft.Data.Sqlite)");
        return sb.ToString();
    }
}
