using System.Diagnostics;

namespace Kontext.Broker.Tests.Ogc;

/// <summary>
/// GDAL's command-line tools (Debian package gdal-bin), run as a GIS client would run them. Missing tools fail the test
/// with how to install them: the GDAL test is part of the suite, never skipped.
/// </summary>
internal static class Gdal
{
    public const string Missing =
        "GDAL's ogrinfo/ogr2ogr are not installed. Install the Debian package gdal-bin (apt-get install -y gdal-bin); " +
        ".ci/run installs it when ogrinfo is missing.";

    public sealed record Result(int ExitCode, string Output, string Errors);

    /// <param name="headers">HTTP headers GDAL sends with every request (its GDAL_HTTP_HEADERS configuration option).</param>
    public static async Task<Result> RunAsync(string tool, IEnumerable<string> arguments, IReadOnlyList<string> headers, bool debug = false)
    {
        var start = new ProcessStartInfo(tool, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["GDAL_HTTP_HEADERS"] = string.Join("\r\n", headers);
        start.Environment["GDAL_HTTP_TIMEOUT"] = "60";
        start.Environment["CPL_DEBUG"] = debug ? "ON" : "OFF";
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException(Missing + $" ({tool}: {e.Message})", e);
        }
        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            using var hang = new CancellationTokenSource(TimeSpan.FromMinutes(3)); // a guard against a hung client, not a timing assertion
            try
            {
                await process.WaitForExitAsync(hang.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(true);
                throw new TimeoutException($"{tool} {string.Join(' ', start.ArgumentList)} did not finish");
            }
            return new Result(process.ExitCode, await output, await errors);
        }
    }
}
