using Kontext.Adapters;
namespace Kontext.Broker.Adapters;

/// <summary>The Things Stack v3 webhook: POST /adapters/tts/{source} with the "uplink message" event (webhook base URL + this path).</summary>
internal static class TtsEndpoint
{
    public static void Map(IEndpointRouteBuilder adapters) =>
        adapters.MapPost("tts/{source}", (HttpContext http, string source, SourceGuard guard, AdapterIngest ingest) => IngestHttp.HandleAsync(http, "tts", source, guard, ingest));
}
