using Kontext.Adapters;
namespace Kontext.Broker.Adapters;

/// <summary>Plain vendor JSON (see <see cref="VendorJsonEnvelope"/>): POST /adapters/json/{source}.</summary>
internal static class VendorJsonEndpoint
{
    public static void Map(IEndpointRouteBuilder adapters) =>
        adapters.MapPost("json/{source}", (HttpContext http, string source, SourceGuard guard, AdapterIngest ingest) => IngestHttp.HandleAsync(http, "json", source, guard, ingest));
}
