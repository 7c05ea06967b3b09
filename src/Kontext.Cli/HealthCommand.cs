using System.CommandLine;
using Spectre.Console;

namespace Kontext.Cli;

/// <summary>kontext health [--ready]: exit 0 when the broker is live (or ready); the Docker image's HEALTHCHECK runs it.</summary>
internal static class HealthCommand
{
    public static Command Create(CliContext cli)
    {
        var ready = new Option<bool>("--ready") { Description = "Ask /health/ready (the store answers) instead of /health/live" };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for the answer", DefaultValueFactory = _ => 5 };
        var command = new Command("health", "Probe a broker: exit 0 when it is live (or ready)") { ready, timeout };
        command.SetAction(async (parsed, cancellationToken) =>
        {
            using var client = cli.Broker.CreateClient(parsed, cli.Handler);
            client.Timeout = TimeSpan.FromSeconds(Math.Max(1, parsed.GetValue(timeout)));
            var path = parsed.GetValue(ready) ? "health/ready" : "health/live";
            try
            {
                using var response = await client.GetAsync(path, cancellationToken);
                var body = await response.Content.ReadAsStringAsync(cancellationToken);
                cli.Console.WriteLine($"{(int)response.StatusCode} {body}");
                return response.IsSuccessStatusCode ? CliContext.Ok : CliContext.Failed;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                return cli.Fail($"{client.BaseAddress}{path}: {ex.Message}");
            }
        });
        return command;
    }
}
