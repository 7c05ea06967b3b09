using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Formats;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;

namespace Kontext.Ngsi.Temporal;

public enum TemporalFormat { Normalized, TemporalValues, AggregatedValues }

/// <summary>How to render temporal entities: representation, the entity render options (attrs, pick/omit, lang, sysAttrs) and aggregation.</summary>
public sealed record TemporalRenderOptions(
    TemporalFormat Format,
    RenderOptions Render,
    TemporalQuery Query,
    IReadOnlyList<AggregationMethod>? Methods = null,
    IsoDuration? Period = null);

/// <summary>
/// Writes the Temporal Representation of an Entity (clause 4.5.7, normalized: each attribute an array of instances
/// with instanceId), the Simplified Temporal Representation (4.5.9, options=temporalValues: [value, time] pairs under
/// values/objects/languageMaps/vocabs/jsons/valueLists/objectLists) and the Aggregated Temporal Representation
/// (4.5.19, options=aggregatedValues: [value, start, end] triples per method). Several datasetIds give an array of such objects.
/// A deletion in the history is an instance whose payload is NGSI-LD Null with its deletedAt.
/// </summary>
public sealed class TemporalRenderer(JsonLdContext context, TemporalRenderOptions options)
{
    private readonly EntityRenderer _entities = new(context, options.Render);

    private static readonly Dictionary<string, string> PluralMember = new(StringComparer.Ordinal)
    {
        [Attr.Property] = "values", [Attr.GeoProperty] = "values", [Attr.Relationship] = "objects",
        [Attr.LanguageProperty] = "languageMaps", [Attr.VocabProperty] = "vocabs", [Attr.JsonProperty] = "jsons",
        [Attr.ListProperty] = "valueLists", [Attr.ListRelationship] = "objectLists",
    };

    /// <summary>Writes one temporal entity: <paramref name="head"/> gives id, types and scope; instances are in ascending time order per attribute.</summary>
    public void WriteEntity(Utf8JsonWriter writer, Entity head, DateTimeOffset? deletedAt, IReadOnlyList<TemporalInstance> instances, JsonNode? bodyContext = null)
    {
        var byAttribute = new OrderedDictionary<string, List<TemporalInstance>>(StringComparer.Ordinal);
        foreach (var instance in instances)
        {
            if (!byAttribute.TryGetValue(instance.Record.Attribute, out var list)) byAttribute[instance.Record.Attribute] = list = [];
            list.Add(instance);
        }
        if (options.Format == TemporalFormat.AggregatedValues)
        {
            WriteAggregatedEntity(writer, head, deletedAt, byAttribute.SelectMany(a => AggregateInMemory(head.Id, a.Key, a.Value)).ToList(), bodyContext);
            return;
        }
        writer.WriteStartObject();
        if (options.Format == TemporalFormat.Normalized)
        {
            var shell = Shell(head);
            foreach (var (attribute, list) in byAttribute) shell.Attributes[attribute] = list.Select(Normalized).ToList();
            _entities.WriteMembers(writer, shell);
        }
        else
        {
            _entities.WriteMembers(writer, Shell(head));
            foreach (var (attribute, list) in byAttribute)
            {
                if (!options.Render.Fields.IncludesAttribute(attribute)) continue;
                var groups = list.GroupBy(i => i.Record.DatasetId).ToList();
                writer.WritePropertyName(context.CompactIri(attribute));
                if (groups.Count > 1) writer.WriteStartArray();
                foreach (var group in groups) WriteValues(writer, group.Key, group.ToList());
                if (groups.Count > 1) writer.WriteEndArray();
            }
        }
        WriteTail(writer, deletedAt, bodyContext);
    }

    /// <summary>
    /// Writes one entity in the Aggregated Temporal Representation from series aggregated already (by the store, or
    /// in memory): attributes in the order given, an attribute's datasetIds default first, then in ordinal order.
    /// </summary>
    public void WriteAggregatedEntity(Utf8JsonWriter writer, Entity head, DateTimeOffset? deletedAt, IReadOnlyList<AggregatedSeries> series, JsonNode? bodyContext = null)
    {
        writer.WriteStartObject();
        _entities.WriteMembers(writer, Shell(head));
        foreach (var attribute in series.GroupBy(s => s.Attribute))
        {
            if (!options.Render.Fields.IncludesAttribute(attribute.Key)) continue;
            var datasets = attribute.OrderBy(s => s.DatasetId is not null).ThenBy(s => s.DatasetId, StringComparer.Ordinal).ToList();
            writer.WritePropertyName(context.CompactIri(attribute.Key));
            if (datasets.Count > 1) writer.WriteStartArray();
            foreach (var one in datasets) WriteAggregated(writer, one);
            if (datasets.Count > 1) writer.WriteEndArray();
        }
        WriteTail(writer, deletedAt, bodyContext);
    }

    private static Entity Shell(Entity head) => new(head.Id) { Types = head.Types, Scopes = head.Scopes, CreatedAt = head.CreatedAt, ModifiedAt = head.ModifiedAt };

    private static void WriteTail(Utf8JsonWriter writer, DateTimeOffset? deletedAt, JsonNode? bodyContext)
    {
        if (deletedAt is { } deleted) writer.WriteString("deletedAt", Validate.Format(deleted));
        if (bodyContext is not null)
        {
            writer.WritePropertyName("@context");
            bodyContext.WriteTo(writer);
        }
        writer.WriteEndObject();
    }

    private static JsonObject Normalized(TemporalInstance instance)
    {
        var record = instance.Record;
        JsonObject doc;
        if (record.Kind == AttributeChangeKind.Deleted || record.InstanceJson is null)
        {
            doc = new JsonObject { ["type"] = Attr.Property, ["value"] = Attr.NullMarker };
            if (record.DatasetId is not null) doc["datasetId"] = record.DatasetId;
            doc["deletedAt"] = Validate.Format(record.ModifiedAt);
        }
        else
        {
            doc = StoredJson.Parse(record.InstanceJson)!.AsObject();
            doc["modifiedAt"] = Validate.Format(record.ModifiedAt);
        }
        doc["instanceId"] = record.InstanceId;
        return doc;
    }

    private static JsonObject? Document(TemporalInstance instance) =>
        instance.Record.Kind == AttributeChangeKind.Deleted || instance.Record.InstanceJson is null ? null : StoredJson.Parse(instance.Record.InstanceJson)!.AsObject();

    private void WriteValues(Utf8JsonWriter writer, string? datasetId, List<TemporalInstance> instances)
    {
        var docs = instances.Select(Document).ToList();
        var type = docs.LastOrDefault(d => d is not null) is { } latest ? Attr.Type(latest) : Attr.Property;
        writer.WriteStartObject();
        writer.WriteString("type", type);
        if (datasetId is not null) writer.WriteString("datasetId", datasetId);
        writer.WriteStartArray(PluralMember.GetValueOrDefault(type, "values"));
        for (var i = 0; i < instances.Count; i++)
        {
            writer.WriteStartArray();
            var payload = docs[i] is { } doc ? Attr.Payload(doc) : JsonValue.Create(Attr.NullMarker);
            if (docs[i] is { } d && Attr.Type(d) == Attr.LanguageProperty && options.Render.Lang is { } lang && payload is JsonObject map)
                payload = lang.Choose(map).Value;
            if (payload is JsonValue pv && pv.TryGetValue<string>(out var iri) && docs[i] is { } vd && Attr.Type(vd) == Attr.VocabProperty)
                writer.WriteStringValue(context.CompactIri(iri));
            else if (payload is null) writer.WriteNullValue();
            else payload.WriteTo(writer);
            writer.WriteStringValue(Validate.Format(instances[i].Time));
            writer.WriteEndArray();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private IEnumerable<AggregatedSeries> AggregateInMemory(string entityId, string attribute, List<TemporalInstance> instances)
    {
        var methods = options.Methods ?? [];
        foreach (var group in instances.GroupBy(i => i.Record.DatasetId))
        {
            var docs = group.Select(i => (Instance: i, Doc: Document(i))).ToList();
            var type = docs.LastOrDefault(d => d.Doc is not null).Doc is { } latest ? Attr.Type(latest) : Attr.Property;
            var samples = docs.Where(d => d.Doc is not null).Select(d => new Sample(Attr.Payload(d.Doc!), d.Instance.Time));
            var values = Aggregation.Aggregate(samples, methods, options.Period ?? IsoDuration.Zero, options.Query.From, options.Query.To);
            yield return new AggregatedSeries(entityId, attribute, group.Key, type, values);
        }
    }

    private void WriteAggregated(Utf8JsonWriter writer, AggregatedSeries series)
    {
        var methods = options.Methods ?? [];
        var (type, datasetId) = (series.AttributeType, series.DatasetId);
        writer.WriteStartObject();
        writer.WriteString("type", type);
        if (datasetId is not null) writer.WriteString("datasetId", datasetId);
        foreach (var method in methods)
        {
            writer.WriteStartArray(Aggregation.Name(method));
            foreach (var value in series.Values[method])
            {
                writer.WriteStartArray();
                if (value.Value is null) writer.WriteNullValue(); else value.Value.WriteTo(writer);
                writer.WriteStringValue(Validate.Format(value.Start));
                writer.WriteStringValue(Validate.Format(value.End));
                writer.WriteEndArray();
            }
            writer.WriteEndArray();
        }
        writer.WriteEndObject();
    }
}
