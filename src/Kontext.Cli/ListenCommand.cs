using System.CommandLine;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Json;

namespace Kontext.Cli;

/// <summary>
/// kontext listen: a notification receiver to try subscriptions with. It answers every POST with 200 and prints the
/// notification (subscription, entities, body). Listens on 127.0.0.1 unless --host says otherwise; a broker in a
/// container reaches it only where its outbound policy allows (docs/security-outbound.md).
/// </summary>
internal static class ListenCommand
{
    public static Command Create(CliContext cli)
    {
        var port = new Option<int>("--port") { Description = "Port to listen on", DefaultValueFactory = _ => 9000 };
        var host = new Option<string>("--host") { Description = "Address to listen on (* for every address)", DefaultValueFactory = _ => "127.0.0.1" };
        var count = new Option<int>("--count") { Description = "Stop after this many notifications (0: until Ctrl+C)", DefaultValueFactory = _ => 0 };
        var command = new Command("listen", "Receive notifications and print them (try a subscription with http://127.0.0.1:9000/notify)") { port, host, count };
        command.SetAction(async (parsed, cancellationToken) =>
        {
            using var listener = new HttpListener();
            var prefix = $"http://{parsed.GetValue(host)}:{parsed.GetValue(port)}/";
            listener.Prefixes.Add(prefix);
            try { listener.Start(); }
            catch (HttpListenerException ex) { return cli.Fail($"cannot listen on {prefix}: {ex.Message}"); }
            cli.Console.MarkupLineInterpolated($"Listening on [bold]{prefix}[/] (notification endpoint e.g. {prefix}notify)");
            await using var stop = cancellationToken.Register(listener.Stop);
            var received = 0;
            var limit = parsed.GetValue(count);
            while (limit == 0 || received < limit)
            {
                HttpListenerContext http;
                try { http = await listener.GetContextAsync(); }
                catch (Exception) when (cancellationToken.IsCancellationRequested) { break; }
                catch (ObjectDisposedException) { break; }
                using var reader = new StreamReader(http.Request.InputStream, http.Request.ContentEncoding);
                var body = await reader.ReadToEndAsync(cancellationToken);
                http.Response.StatusCode = http.Request.HttpMethod == "POST" ? 200 : 405;
                http.Response.Close();
                if (http.Request.HttpMethod != "POST") continue;
                received++;
                Print(cli.Console, http.Request, body);
            }
            return CliContext.Ok;
        });
        return command;
    }

    private static void Print(IAnsiConsole console, HttpListenerRequest request, string body)
    {
        JsonObject? notification = null;
        try { notification = JsonNode.Parse(body) as JsonObject; } catch (JsonException) { }
        var entities = notification?["data"] is JsonArray data
            ? string.Join(", ", data.OfType<JsonObject>().Select(e => e["id"]?.ToString()))
            : "-";
        console.MarkupLineInterpolated(
            $"[green]{DateTimeOffset.Now:HH:mm:ss}[/] {request.HttpMethod} {request.Url?.AbsolutePath} subscription [bold]{notification?["subscriptionId"]?.ToString() ?? "-"}[/] entities {entities}");
        if (notification is not null) console.Write(new JsonText(notification.ToJsonString()));
        else console.WriteLine(body);
        console.WriteLine();
    }
}
