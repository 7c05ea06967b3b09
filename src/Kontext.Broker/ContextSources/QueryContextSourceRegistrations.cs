using System.Text.Json;
using Kontext.Broker.Http;
using Kontext.Ngsi.ContextSources;

namespace Kontext.Broker.ContextSources;

/// <summary>
/// Query Context Source Registrations: GET /csourceRegistrations (clauses 5.10.2, 6.8.3.1). Registrations are few per
/// tenant (capped by Kontext:Limits:MaxRegistrationsPerTenant), so they are filtered in memory with the one matcher
/// that distributed operations use too, in creation order.
/// </summary>
internal static class QueryContextSourceRegistrations
{
    public static async Task HandleAsync(NgsiRequest request, RegistrationChanges changes)
    {
        var http = request.Http;
        string? Param(string name) => request.Query.TryGetValue(name, out var value) ? value.ToString() : null;
        var filter = RegistrationDiscovery.Parse(new RegistrationQueryParameters(
            Type: Param("type"), Id: Param("id"), IdPattern: Param("idPattern"), Attrs: Param("attrs"), Q: Param("q"), Csf: Param("csf"),
            GeoRel: Param("georel"), Geometry: Param("geometry"), Coordinates: Param("coordinates"), GeoProperty: Param("geoproperty"),
            TimeRel: Param("timerel"), TimeAt: Param("timeAt"), EndTimeAt: Param("endTimeAt"), TimeProperty: Param("timeproperty"),
            ScopeQ: Param("scopeQ")), request.Context);
        var sysAttrs = QueryParameters.Options(request, "sysAttrs").Contains("sysAttrs");
        var page = Pagination.Read(request);
        var (_, store) = await RegistrationStores.ForAsync(request, forWrite: false);
        var matching = (await RegistrationStores.LiveAsync(store, request.Tenant, changes, http.RequestAborted))
            .Where(l => filter.Matches(l.Registration)).ToList();
        var selected = ResourcePage.Select(request, page, matching);
        var bodyContext = await NgsiResponse.PrepareAsync(request);
        await using var writer = new Utf8JsonWriter(http.Response.BodyWriter, NgsiJson.WriterOptions);
        writer.WriteStartArray();
        foreach (var loaded in selected)
        {
            var output = RegistrationStores.Render(loaded, request, sysAttrs);
            if (bodyContext is not null) output["@context"] = bodyContext.DeepClone();
            output.WriteTo(writer);
        }
        writer.WriteEndArray();
        await writer.FlushAsync(http.RequestAborted);
    }
}
