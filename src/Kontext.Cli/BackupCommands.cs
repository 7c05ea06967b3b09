using System.CommandLine;
using Kontext.Storage.Sqlite;
using Spectre.Console;

namespace Kontext.Cli;

/// <summary>
/// kontext backup / restore: the embedded store's data directory, with SQLite's online backup API while the broker runs,
/// and back with the broker stopped (<see cref="SqliteBackup"/>). A MongoDB deployment is backed up with mongodump
/// (docs/operations.md#backups).
/// </summary>
internal static class BackupCommands
{
    private static Option<string> DataOption() => new("--data")
    {
        Description = "The broker's data directory (Kontext:Storage:DataDirectory; env KONTEXT_DATA)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("KONTEXT_DATA") ?? "data",
    };

    public static Command CreateBackup(CliContext cli)
    {
        var target = new Argument<string>("target") { Description = "A new or empty directory for the backup" };
        var data = DataOption();
        var command = new Command("backup", "Back up the SQLite data directory while the broker runs (online backup API)") { target, data };
        command.SetAction((parsed, cancellationToken) =>
        {
            try
            {
                var manifest = SqliteBackup.Backup(parsed.GetValue(data)!, parsed.GetValue(target)!,
                    file => cli.Console.MarkupLineInterpolated($"  {file.File} [grey]{Describe(file)}[/]"), cancellationToken);
                cli.Console.MarkupLineInterpolated($"Backed up {manifest.Files.Count} databases ({manifest.Files.Sum(f => f.Bytes) / 1024.0:0.#} KiB) to [bold]{Path.GetFullPath(parsed.GetValue(target)!)}[/]");
                return Task.FromResult(CliContext.Ok);
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException or Microsoft.Data.Sqlite.SqliteException or UnauthorizedAccessException)
            {
                return Task.FromResult(cli.Fail(ex.Message));
            }
        });
        return command;
    }

    public static Command CreateRestore(CliContext cli)
    {
        var source = new Argument<string>("backup") { Description = "A directory written by kontext backup" };
        var data = DataOption();
        var replace = new Option<bool>("--replace") { Description = "The data directory has databases: move them to a pre-restore-* folder first" };
        var command = new Command("restore", "Restore a backup into the data directory (the broker must be stopped)") { source, data, replace };
        command.SetAction((parsed, _) =>
        {
            try
            {
                var manifest = SqliteBackup.Restore(parsed.GetValue(source)!, parsed.GetValue(data)!, parsed.GetValue(replace),
                    file => cli.Console.MarkupLineInterpolated($"  {file.File} [grey]{Describe(file)}[/]"));
                cli.Console.MarkupLineInterpolated($"Restored {manifest.Files.Count} databases of the backup taken {manifest.CreatedAt:u}; start the broker.");
                return Task.FromResult(CliContext.Ok);
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException or Microsoft.Data.Sqlite.SqliteException or UnauthorizedAccessException)
            {
                return Task.FromResult(cli.Fail(ex.Message));
            }
        });
        return command;
    }

    private static string Describe(BackupFile file) => (file.Tenant is null ? "" : $"tenant {file.Tenant}, ") + $"{file.Bytes / 1024.0:0.#} KiB";
}
