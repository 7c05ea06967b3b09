using Kontext.Adapters;
using Kontext.Ngsi.Errors;

namespace Kontext.Broker.Adapters;

/// <summary>
/// ChirpStack v4 HTTP integration: POST /adapters/chirpstack/{source}?event=up. Other events (status, join, ack, txack,
/// log, location, integration) are authenticated and acknowledged with {status: ignored}.
/// </summary>
internal static class ChirpStackEndpoint
{
    public static void Map(IEndpointRouteBuilder adapters) =>
        adapters.MapPost("chirpstack/{source}", async (HttpContext http, string source, SourceGuard guard, AdapterIngest ingest) =>
        {
            var evt = http.Request.Query["event"].ToString();
            if (evt.Length > 0 && evt != "up")
            {
                guard.Authenticate(http.Request, source, "chirpstack");
                await IngestHttp.WriteAsync(http, IngestResult.Ignored);
                return;
            }
            await IngestHttp.HandleAsync(http, "chirpstack", source, guard, ingest);
        });
}
