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
/// A deletion in the history is an instance holding NGSI-LD Null in the form of the attribute's type (clause 5.2.1)
/// with its deletedAt.
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

    /// <summary>
    /// Writes one temporal entity: <paramref name="head"/> gives id, types and scope; instances are in ascending time order
    /// per attribute. <paramref name="cutOff"/> names attributes that have instances in the requested window but none on
    /// this page (the page's time range ended before them, clause 6.3.10): they are shown empty, so a client sees that
    /// they continue on the next page rather than that they do not exist.
    /// </summary>
    public void WriteEntity(Utf8JsonWriter writer, Entity head, DateTimeOffset? deletedAt, IReadOnlyList<TemporalInstance> instances, JsonNode? bodyContext = null,
        IReadOnlyList<TemporalInstance>? cutOff = null)
    {
        var byAttribute = new OrderedDictionary<string, List<TemporalInstance>>(StringComparer.Ordinal);
        foreach (var instance in instances)
        {
            if (!byAttribute.TryGetValue(instance.Record.Attribute, out var list)) byAttribute[instance.Record.Attribute] = list = [];
            list.Add(instance);
        }
        // An attribute cut off whole keeps its place with no instance; its first instance tells its type.
        var emptyTypes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var instance in cutOff ?? [])
        {
            if (byAttribute.ContainsKey(instance.Record.Attribute)) continue;
            byAttribute[instance.Record.Attribute] = [];
            emptyTypes[instance.Record.Attribute] = TypeOf(instance);
        }
        if (options.Format == TemporalFormat.AggregatedValues)
        {
            WriteAggregatedEntity(writer, head, deletedAt, byAttribute.SelectMany(a => AggregateInMemory(head.Id, a.Key, a.Value)).ToList(), bodyContext);
            return;
        }
        writer.WriteStartObject();
        // The Scope's evolution, when the history has one, stands in place of the current scope (clause 4.5.6).
        _entities.WriteMembers(writer, Shell(head, withScope: !byAttribute.ContainsKey(ScopeHistory.Attribute)));
        foreach (var (attribute, list) in byAttribute)
        {
            if (!Includes(attribute)) continue;
            writer.WritePropertyName(context.CompactIri(attribute));
            if (options.Format == TemporalFormat.Normalized)
            {
                // Always an array, one instance or many: the representation is the attribute's evolution.
                writer.WriteStartArray();
                foreach (var instance in list) WriteInstance(writer, instance);
                writer.WriteEndArray();
                continue;
            }
            if (list.Count == 0)
            {
                writer.WriteStartObject();
                writer.WriteString("type", emptyTypes[attribute]);
                writer.WriteStartArray(PluralMember.GetValueOrDefault(emptyTypes[attribute], "values"));
                writer.WriteEndArray();
                writer.WriteEndObject();
                continue;
            }
            var groups = list.GroupBy(i => i.Record.DatasetId).ToList();
            if (groups.Count > 1) writer.WriteStartArray();
            foreach (var group in groups) WriteValues(writer, group.Key, group.ToList());
            if (groups.Count > 1) writer.WriteEndArray();
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
            if (attribute.Key == ScopeHistory.Attribute || !Includes(attribute.Key)) continue;
            var datasets = attribute.OrderBy(s => s.DatasetId is not null).ThenBy(s => s.DatasetId, StringComparer.Ordinal).ToList();
            writer.WritePropertyName(context.CompactIri(attribute.Key));
            if (datasets.Count > 1) writer.WriteStartArray();
            foreach (var one in datasets) WriteAggregated(writer, one);
            if (datasets.Count > 1) writer.WriteEndArray();
        }
        WriteTail(writer, deletedAt, bodyContext);
    }

    private static Entity Shell(Entity head, bool withScope = true) =>
        new(head.Id) { Types = head.Types, Scopes = withScope ? head.Scopes : null, CreatedAt = head.CreatedAt, ModifiedAt = head.ModifiedAt };

    private bool Includes(string attribute) =>
        attribute == ScopeHistory.Attribute ? options.Render.Fields.Scope : options.Render.Fields.IncludesAttribute(attribute);

    private static void WriteTail(Utf8JsonWriter writer, DateTimeOffset? deletedAt, JsonNode? bodyContext)
    {
        if (deletedAt is { } deleted) writer.WriteString("deletedAt", TemporalTime.Format(deleted));
        if (bodyContext is not null)
        {
            writer.WritePropertyName("@context");
            bodyContext.WriteTo(writer);
        }
        writer.WriteEndObject();
    }

    private void WriteInstance(Utf8JsonWriter writer, TemporalInstance instance)
    {
        var record = instance.Record;
        if (IsDeletion(record))
        {
            // deletedAt is the point in time of this instance, so it is shown without sysAttrs.
            var type = DeletedType(record);
            writer.WriteStartObject();
            writer.WriteString("type", type);
            if (record.Attribute == ScopeHistory.Attribute)
            {
                // A removed Scope is no scope at all: the empty array.
                writer.WriteStartArray("value");
                writer.WriteEndArray();
            }
            else WriteNullPayload(writer, type);
            if (record.DatasetId is not null) writer.WriteString("datasetId", record.DatasetId);
            // A removed Scope's observedAt is its deletedAt (a copy, clause 4.5.6), so it is not shown twice.
            if (record.ObservedAt is { } observed && record.Attribute != ScopeHistory.Attribute) writer.WriteString("observedAt", TemporalTime.Format(observed));
            writer.WriteString("instanceId", record.InstanceId);
            writer.WriteString("deletedAt", TemporalTime.Format(record.ModifiedAt));
            writer.WriteEndObject();
            return;
        }
        var doc = StoredJson.Parse(record.InstanceJson!)!.AsObject();
        doc["modifiedAt"] = Validate.Format(record.ModifiedAt);
        doc["instanceId"] = record.InstanceId;
        _entities.WriteInstance(writer, doc);
    }

    private static bool IsDeletion(AttributeInstanceRecord record) => record.Kind == AttributeChangeKind.Deleted || record.InstanceJson is null;

    /// <summary>The attribute type a deletion record keeps (older records without it count as Property).</summary>
    private static string DeletedType(AttributeInstanceRecord record) =>
        record.InstanceJson is { } json && StoredJson.Parse(json) is JsonObject marker ? Attr.Type(marker) : Attr.Property;

    private static string TypeOf(TemporalInstance instance) =>
        IsDeletion(instance.Record) ? DeletedType(instance.Record) : Attr.Type(StoredJson.Parse(instance.Record.InstanceJson!)!.AsObject());

    /// <summary>NGSI-LD Null in the payload member of <paramref name="type"/> (clause 5.2.1).</summary>
    private static void WriteNullPayload(Utf8JsonWriter writer, string type)
    {
        var member = Attr.PayloadMember.GetValueOrDefault(type, "value");
        if (type == Attr.LanguageProperty)
        {
            writer.WriteStartObject(member);
            writer.WriteString("@none", Attr.NullMarker);
            writer.WriteEndObject();
        }
        else writer.WriteString(member, Attr.NullMarker);
    }

    private void WriteValues(Utf8JsonWriter writer, string? datasetId, List<TemporalInstance> instances)
    {
        var type = instances.Count == 0 ? Attr.Property : TypeOf(instances[^1]);
        writer.WriteStartObject();
        writer.WriteString("type", type);
        if (datasetId is not null) writer.WriteString("datasetId", datasetId);
        writer.WriteStartArray(PluralMember.GetValueOrDefault(type, "values"));
        foreach (var instance in instances)
        {
            writer.WriteStartArray();
            WritePairValue(writer, instance);
            writer.WriteStringValue(TemporalTime.Format(instance.Time));
            writer.WriteEndArray();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>
    /// The first element of a [value, time] pair: the bare value of a Property, GeoProperty or ListProperty, the object of a
    /// Relationship; LanguageProperty, VocabProperty and JsonProperty keep their payload member ({"languageMap": …},
    /// {"vocab": …}, {"json": …}) so a JSON value is never mistaken for a language map or a vocabulary term.
    /// </summary>
    private void WritePairValue(Utf8JsonWriter writer, TemporalInstance instance)
    {
        if (IsDeletion(instance.Record))
        {
            if (instance.Record.Attribute == ScopeHistory.Attribute)
            {
                // A removed Scope is no scope at all: the empty array.
                writer.WriteStartArray();
                writer.WriteEndArray();
                return;
            }
            var deletedType = DeletedType(instance.Record);
            if (deletedType is Attr.LanguageProperty or Attr.VocabProperty or Attr.JsonProperty)
            {
                writer.WriteStartObject();
                WriteNullPayload(writer, deletedType);
                writer.WriteEndObject();
            }
            else writer.WriteStringValue(Attr.NullMarker);
            return;
        }
        // The same value as the simplified representation of the entity shows (clause 4.5.4).
        _entities.WriteSimplifiedValue(writer, StoredJson.Parse(instance.Record.InstanceJson!)!.AsObject());
    }

    private static JsonObject? Document(TemporalInstance instance) =>
        IsDeletion(instance.Record) ? null : StoredJson.Parse(instance.Record.InstanceJson!)!.AsObject();

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
                writer.WriteStringValue(TemporalTime.Format(value.Start));
                writer.WriteStringValue(TemporalTime.Format(value.End));
                writer.WriteEndArray();
            }
            writer.WriteEndArray();
        }
        writer.WriteEndObject();
    }
}
