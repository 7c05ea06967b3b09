using System.Text.Json;
using Kontext.Broker.ContextSources;
using Kontext.Broker.Http;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Entities;

/// <summary>
/// Retrieve available entity types and attributes (clauses 5.7.5–5.7.10, 6.25–6.28): GET /types, /types/{type},
/// /attributes, /attributes/{attrId}. Served from the store's counters, complete over all entities. The lists also hold
/// what registered context sources answer (clause 4.3.6), unless local=true.
/// </summary>
internal static class TypesAndAttributes
{
    // The query parameters each operation defines (clauses 6.25–6.28); any other is InvalidRequest (clause 6.3.20).
    private static readonly HashSet<string> ListParameters = new(StringComparer.Ordinal) { "details", "local", "count" };
    private static readonly HashSet<string> OneParameters = new(StringComparer.Ordinal) { "local" };

    public static void MapTypesAndAttributes(this IEndpointRouteBuilder app)
    {
        app.MapGet("/ngsi-ld/v1/types", ListTypesAsync);
        app.MapGet("/ngsi-ld/v1/types/{type}", GetTypeAsync);
        app.MapGet("/ngsi-ld/v1/attributes", ListAttributesAsync);
        app.MapGet("/ngsi-ld/v1/attributes/{attrId}", GetAttributeAsync);
    }

    private static async Task ListTypesAsync(NgsiRequest request, DiscoveryForwarding discovery)
    {
        var http = request.Http;
        QueryParameters.RejectUnknown(request, ListParameters);
        var details = QueryParameters.Flag(request, "details");
        var store = await request.TenantStoreAsync(forWrite: false);
        var types = (await store.ListTypesAsync(http.RequestAborted)).Select(t => t.Type).ToList();
        var attributes = details ? (await store.ListTypeAttributesAsync(http.RequestAborted)).Select(a => (a.Type, a.Attribute)).ToList() : [];
        var warnings = new ForwardingWarnings();
        var remote = await discovery.AskAsync(request, store,
            details ? "retrieveEntityTypeDetails" : "retrieveEntityTypes", details ? "types?details=true" : "types", warnings);
        if (remote.Count > 0)
        {
            types = [.. types.Concat(DiscoveryForwarding.Names(remote, details ? "typeName" : "typeList", request)).Distinct(StringComparer.Ordinal)];
            attributes = [.. attributes.Concat(DiscoveryForwarding.Pairs(remote, "typeName", "attributeNames", request)).Distinct()];
        }
        warnings.WriteTo(http.Response);
        await WriteAsync(request, (writer, context) =>
        {
            if (!details)
            {
                writer.WriteStartObject();
                writer.WriteString("id", "urn:ngsi-ld:EntityTypeList:" + Guid.NewGuid());
                writer.WriteString("type", "EntityTypeList");
                writer.WriteStartArray("typeList");
                foreach (var type in types) writer.WriteStringValue(request.Context.CompactIri(type));
                writer.WriteEndArray();
                context();
                writer.WriteEndObject();
                return;
            }
            writer.WriteStartArray();
            foreach (var type in types)
            {
                writer.WriteStartObject();
                writer.WriteString("id", type);
                writer.WriteString("type", "EntityType");
                writer.WriteString("typeName", request.Context.CompactIri(type));
                writer.WriteStartArray("attributeNames");
                foreach (var a in attributes.Where(a => a.Type == type)) writer.WriteStringValue(request.Context.CompactIri(a.Attribute));
                writer.WriteEndArray();
                context();
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
        });
    }

    private static async Task GetTypeAsync(NgsiRequest request, string type, DiscoveryForwarding discovery)
    {
        var http = request.Http;
        QueryParameters.RejectUnknown(request, OneParameters);
        var term = Uri.UnescapeDataString(type);
        var iri = request.Context.ExpandTerm(term);
        var store = await request.TenantStoreAsync(forWrite: false);
        var info = (await store.ListTypesAsync(http.RequestAborted)).FirstOrDefault(t => t.Type == iri);
        var attributes = (await store.ListTypeAttributesAsync(http.RequestAborted)).Where(a => a.Type == iri)
            .Select(a => (a.Attribute, Kinds: (IEnumerable<string>)a.AttributeKinds)).ToList();
        var warnings = new ForwardingWarnings();
        var remote = await discovery.AskAsync(request, store, "retrieveEntityTypeInfo", "types/" + Uri.EscapeDataString(term), warnings, TypeSpec(term, request));
        if (info is null && remote.Count == 0) throw NgsiException.NotFound($"No entity of type '{type}' exists");
        var entityCount = (info?.EntityCount ?? 0) + DiscoveryForwarding.Sum(remote, "entityCount");
        var details = attributes.Concat(DiscoveryForwarding.AttributeDetails(remote, request))
            .GroupBy(a => a.Attribute, StringComparer.Ordinal).Select(g => (Attribute: g.Key, Kinds: g.SelectMany(a => a.Kinds).Distinct().Order(StringComparer.Ordinal).ToList())).ToList();
        warnings.WriteTo(http.Response);
        await WriteAsync(request, (writer, context) =>
        {
            writer.WriteStartObject();
            writer.WriteString("id", iri);
            writer.WriteString("type", "EntityTypeInfo");
            writer.WriteString("typeName", request.Context.CompactIri(iri));
            writer.WriteNumber("entityCount", entityCount);
            writer.WriteStartArray("attributeDetails");
            foreach (var attribute in details)
            {
                writer.WriteStartObject();
                writer.WriteString("id", attribute.Attribute);
                writer.WriteString("type", "Attribute");
                writer.WriteString("attributeName", request.Context.CompactIri(attribute.Attribute));
                WriteStrings(writer, "attributeTypes", attribute.Kinds);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            context();
            writer.WriteEndObject();
        });
    }

    private static async Task ListAttributesAsync(NgsiRequest request, DiscoveryForwarding discovery)
    {
        var http = request.Http;
        QueryParameters.RejectUnknown(request, ListParameters);
        var details = QueryParameters.Flag(request, "details");
        var store = await request.TenantStoreAsync(forWrite: false);
        var pairs = (await store.ListTypeAttributesAsync(http.RequestAborted)).Select(a => (a.Type, a.Attribute)).ToList();
        var warnings = new ForwardingWarnings();
        var remote = await discovery.AskAsync(request, store,
            details ? "retrieveAttrTypeDetails" : "retrieveAttrTypes", details ? "attributes?details=true" : "attributes", warnings);
        // A source's plain attribute list names no types: such an attribute is listed with the types known for it, if any.
        var remoteOnly = DiscoveryForwarding.Names(remote, details ? "attributeName" : "attributeList", request).ToHashSet(StringComparer.Ordinal);
        pairs = [.. pairs.Concat(DiscoveryForwarding.Pairs(remote, "attributeName", "typeNames", request).Select(p => (Type: p.Other, Attribute: p.Name))).Distinct()];
        remoteOnly.ExceptWith(pairs.Select(p => p.Attribute));
        var byAttribute = pairs.GroupBy(a => a.Attribute).Select(g => (g.Key, Types: g.Select(a => a.Type).ToList()))
            .Concat(remoteOnly.Select(a => (Key: a, Types: new List<string>())))
            .OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        warnings.WriteTo(http.Response);
        await WriteAsync(request, (writer, context) =>
        {
            if (!details)
            {
                writer.WriteStartObject();
                writer.WriteString("id", "urn:ngsi-ld:AttributeList:" + Guid.NewGuid());
                writer.WriteString("type", "AttributeList");
                WriteStrings(writer, "attributeList", byAttribute.Select(g => request.Context.CompactIri(g.Key)));
                context();
                writer.WriteEndObject();
                return;
            }
            writer.WriteStartArray();
            foreach (var group in byAttribute)
            {
                writer.WriteStartObject();
                writer.WriteString("id", group.Key);
                writer.WriteString("type", "Attribute");
                writer.WriteString("attributeName", request.Context.CompactIri(group.Key));
                WriteStrings(writer, "typeNames", group.Types.Select(request.Context.CompactIri));
                context();
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
        });
    }

    private static async Task GetAttributeAsync(NgsiRequest request, string attrId, DiscoveryForwarding discovery)
    {
        var http = request.Http;
        QueryParameters.RejectUnknown(request, OneParameters);
        var term = Uri.UnescapeDataString(attrId);
        var iri = EntityParser.ExpandAttributeName(term, request.Context);
        var store = await request.TenantStoreAsync(forWrite: false);
        var rows = (await store.ListTypeAttributesAsync(http.RequestAborted)).Where(a => a.Attribute == iri).ToList();
        var warnings = new ForwardingWarnings();
        var remote = await discovery.AskAsync(request, store, "retrieveAttrTypeInfo", "attributes/" + Uri.EscapeDataString(term), warnings,
            attributes: new HashSet<string>(StringComparer.Ordinal) { iri });
        if (rows.Count == 0 && remote.Count == 0) throw NgsiException.NotFound($"No entity has an attribute '{attrId}'");
        // An entity with several types counts once per type in the counters; the type index gives the exact total.
        var count = rows.Count == 0 ? 0
            : (await store.QueryAsync(new EntityPageRequest(Ngsi.Query.EntityQuery.All, 0, 0, true, new HashSet<string> { iri }), http.RequestAborted)).TotalCount ?? 0;
        count += DiscoveryForwarding.Sum(remote, "attributeCount");
        var kinds = rows.SelectMany(r => r.AttributeKinds).Concat(DiscoveryForwarding.Values(remote, "attributeTypes")).Distinct().Order(StringComparer.Ordinal).ToList();
        var types = rows.Select(r => r.Type).Concat(DiscoveryForwarding.Names(remote, "typeNames", request)).Distinct(StringComparer.Ordinal).ToList();
        warnings.WriteTo(http.Response);
        await WriteAsync(request, (writer, context) =>
        {
            writer.WriteStartObject();
            writer.WriteString("id", iri);
            writer.WriteString("type", "Attribute");
            writer.WriteString("attributeName", request.Context.CompactIri(iri));
            writer.WriteNumber("attributeCount", count);
            WriteStrings(writer, "attributeTypes", kinds);
            WriteStrings(writer, "typeNames", types.Select(request.Context.CompactIri));
            context();
            writer.WriteEndObject();
        });
    }

    /// <summary>The registrations of the type asked for; a name that is no type selector (it has no entities anyway) narrows nothing.</summary>
    private static Ngsi.ContextSources.EntitySpec TypeSpec(string term, NgsiRequest request)
    {
        try { return new Ngsi.ContextSources.EntitySpec(Ngsi.Query.SelectorExpressions.ParseType(term, request.Context)); }
        catch (NgsiException) { return new Ngsi.ContextSources.EntitySpec(); }
    }

    private static void WriteStrings(Utf8JsonWriter writer, string member, IEnumerable<string> values)
    {
        writer.WriteStartArray(member);
        foreach (var value in values) writer.WriteStringValue(value);
        writer.WriteEndArray();
    }

    /// <summary>Writes the response; <c>context</c> is to be closed into each top-level object (ld+json only).</summary>
    private static async Task WriteAsync(NgsiRequest request, Action<Utf8JsonWriter, Action> write)
    {
        var bodyContext = await NgsiResponse.PrepareAsync(request);
        await using var writer = new Utf8JsonWriter(request.Http.Response.BodyWriter, NgsiJson.WriterOptions);
        write(writer, () =>
        {
            if (bodyContext is null) return;
            writer.WritePropertyName("@context");
            bodyContext.WriteTo(writer);
        });
        await writer.FlushAsync(request.Http.RequestAborted);
    }
}
