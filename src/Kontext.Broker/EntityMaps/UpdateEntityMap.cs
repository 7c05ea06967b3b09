using System.Text.Json.Nodes;
using Kontext.Broker.Http;
using Kontext.Ngsi.EntityMaps;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Model;

namespace Kontext.Broker.EntityMaps;

/// <summary>
/// Update EntityMap: PATCH /entityMaps/{entityMapId} (clauses 5.14.2, 6.32.3.2); 204. Only expiresAt can change (bounded
/// like a new map's); the output members entityMap and linkedMaps are ignored (clause 5.2.39), other members are refused.
/// </summary>
internal static class UpdateEntityMap
{
    private static readonly HashSet<string> Ignored = new(StringComparer.Ordinal) { "@context", "id", "type", "entityMap", "linkedMaps" };

    public static async Task HandleAsync(HttpContext http, string entityMapId, EntityMapStore maps)
    {
        var request = await NgsiRequest.ReadWithBodyAsync(http);
        var id = EntityMapRoutes.Id(entityMapId);
        var fragment = request.Body!;
        if (fragment.Select(p => p.Key).FirstOrDefault(k => !Ignored.Contains(k) && k != "expiresAt") is { } unknown)
            throw NgsiException.BadRequestData($"'{unknown}' is not a member of an Entity map that can be updated");
        DateTimeOffset? expiresAt = fragment["expiresAt"] switch
        {
            null => null,
            JsonValue v when v.TryGetValue<string>(out var text) && Validate.TryParseDateTime(text, out var at) => at,
            _ => throw NgsiException.BadRequestData("expiresAt must be a date-time (e.g. 2030-01-01T00:00:00Z)"),
        };
        var map = maps.Find(request.Tenant, id) ?? throw NgsiException.NotFound($"The Entity map '{id}' does not exist");
        if (expiresAt is { } end)
        {
            var changed = map with { ExpiresAt = EntityMap.Expiry(maps.Now, end, maps.Options.DefaultLifetime, maps.Options.MaxLifetime) };
            if (!maps.Replace(request.Tenant, map, changed)) throw NgsiException.NotFound($"The Entity map '{id}' does not exist");
        }
        NgsiResponse.NoContent(request);
    }
}
