using System.CommandLine;
using Spectre.Console;

namespace Kontext.Cli;

/// <summary>
/// The kontext tool (docs/cli.md). Every command is built over an <see cref="IAnsiConsole"/> and an optional HTTP handler,
/// so the tests run the real commands against a broker in the test process.
/// </summary>
public static class KontextCli
{
    public static Task<int> Main(string[] args) => RunAsync(args, AnsiConsole.Console);

    public static async Task<int> RunAsync(string[] args, IAnsiConsole console, HttpMessageHandler? handler = null, CancellationToken cancellationToken = default)
    {
        var broker = new BrokerOptions();
        var root = new RootCommand("Kontext NGSI-LD broker tool: import and export entities, back up and restore the embedded store, probe a broker");
        foreach (var option in broker.All) root.Options.Add(option);
        var context = new CliContext(console, broker, handler);
        root.Subcommands.Add(ImportCommand.Create(context));
        root.Subcommands.Add(ExportCommand.Create(context));
        root.Subcommands.Add(BackupCommands.CreateBackup(context));
        root.Subcommands.Add(BackupCommands.CreateRestore(context));
        root.Subcommands.Add(HealthCommand.Create(context));
        root.Subcommands.Add(ListenCommand.Create(context));
        var output = new StringWriter();
        var parsed = root.Parse(args);
        var code = await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = output }, cancellationToken);
        if (output.GetStringBuilder().Length > 0) console.Write(new Text(output.ToString()));
        return code;
    }
}

/// <summary>What every command shares: where it writes, which broker it talks to, and how.</summary>
internal sealed record CliContext(IAnsiConsole Console, BrokerOptions Broker, HttpMessageHandler? Handler)
{
    /// <summary>Exit codes: 0 done, 1 failed, 2 done with refused items (import).</summary>
    public const int Ok = 0, Failed = 1, Partly = 2;

    public int Fail(string message)
    {
        Console.MarkupLineInterpolated($"[red]error:[/] {message}");
        return Failed;
    }
}
