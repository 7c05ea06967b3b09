using System.Text;
using System.Text.Json.Nodes;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using Kontext.Ngsi.Temporal;
using Kontext.Storage.Sqlite;

namespace Kontext.Storage.Tests.Sqlite;

/// <summary>
/// Issue 12, session 13: a write encodes the instances it left alone from their stored bytes
/// (<see cref="SqliteEntityForm.DecodeForWrite"/>, <see cref="SqliteEntityForm.EncodeUtf8"/>). Differential: for generated
/// entities through every write decision, the document with reused instances is byte for byte the one a whole encode of
/// the same new state writes, and decodes to that state.
/// </summary>
public sealed class SqliteEntityFormSpliceDifferentialTests
{
    private const string Default = "https://uri.etsi.org/ngsi-ld/default-context/";

    public static TheoryData<int> Seeds() => new(Enumerable.Range(0, 40));

    [Theory]
    [MemberData(nameof(Seeds))]
    public void A_write_that_reuses_stored_instances_stores_what_a_whole_encode_stores(int seed)
    {
        var random = new Random(seed);
        foreach (var version in StoredEntityRenderDifferentialTests.Versions(random))
        {
            // Stored with a space a whole encode does not write: a reused instance keeps it, which shows the reuse.
            var doc = Encoding.UTF8.GetBytes(Text(SqliteEntityForm.EncodeUtf8(version)).Replace(Spelled, Respelled));
            var reused = 0;
            foreach (var (name, decide) in Decisions(version, random))
            {
                var (current, decoded) = SqliteEntityForm.DecodeForWrite(doc);
                var write = decide(current);
                if (write.Kind != EntityWriteKind.Upsert) continue;
                write.ReplacesInstances.Should().BeTrue();
                var spliced = Text(SqliteEntityForm.EncodeUtf8(write.After!, decoded));
                if (spliced.Contains(Respelled)) reused++;
                spliced.Replace(Respelled, Spelled).Should().Be(Text(SqliteEntityForm.EncodeUtf8(write.After!)), $"seed {seed}, {name}");
                Text(EntityJson.Serialize(SqliteEntityForm.Decode(Encoding.UTF8.GetBytes(spliced))))
                    .Should().Be(Text(EntityJson.Serialize(write.After!)), $"seed {seed}, {name}");
            }
            if (version.Attributes.Count > 1) reused.Should().BePositive("a write of one attribute leaves the others as stored");
        }
    }

    private const string Spelled = "\"type\":\"", Respelled = "\"type\": \"";

    [Fact]
    public void An_unchanged_instance_is_written_as_stored_and_read_back_as_a_whole_encode_is()
    {
        // Stored bytes a whole encode would not write (a space, a number's own spelling): reuse shows in the document.
        var doc = Encoding.UTF8.GetBytes("""
            {"i":"urn:ngsi-ld:T:1","y":["=T"],"c":638424000001230000,"m":638424000001230000,"a":{"=kept":[0,{"type":"Property","value": 1.50}],"=changed":[0,{"type":"Property","value":2}]}}
            """.Trim());
        var (current, decoded) = SqliteEntityForm.DecodeForWrite(doc);
        var after = EntityWrites.UpdateAttributes("urn:ngsi-ld:T:1", Fragment("urn:ngsi-ld:T:1", "changed", 3))(current).After!;
        var spliced = SqliteEntityForm.EncodeUtf8(after, decoded);
        Text(spliced).Should().Contain("""{"type":"Property","value": 1.50}""").And.Contain("\"value\":3");
        Text(EntityJson.Serialize(SqliteEntityForm.Decode(spliced))).Should().Be(Text(EntityJson.Serialize(SqliteEntityForm.Decode(SqliteEntityForm.EncodeUtf8(after)))));
    }

    [Fact]
    public void Instances_stored_without_a_time_code_or_under_names_kept_whole_are_written_as_a_whole_encode_writes_them()
    {
        // Names kept whole ("f":1), an extra time in "t", an instance whose trailing times were left in its members (a
        // whole encode codes them) and one without times.
        var doc = Encoding.UTF8.GetBytes("""
            {"i":"urn:ngsi-ld:T:2","f":1,"y":["=odd"],"c":638424000001230000,"m":638424000001230000,"t":["2020-01-01T00:00:00.000Z"],"a":{"https://uri.etsi.org/ngsi-ld/default-context/a":[[2,0],{"type":"Property","value":1},{"type":"Property","value":2,"datasetId":"urn:d","createdAt":"2019-01-01T00:00:00.000Z","modifiedAt":"2019-01-02T00:00:00.000Z"}],"https://uri.etsi.org/ngsi-ld/default-context/b":[{"type":"Property","value":3}],"https://uri.etsi.org/ngsi-ld/default-context/c":[1,{"type":"Property","value":4}]}}
            """.Trim());
        foreach (var decide in new Func<Entity?, EntityWrite<UpdateResult>>[]
                 {
                     EntityWrites.UpdateAttributes("urn:ngsi-ld:T:2", Fragment("urn:ngsi-ld:T:2", "c", 5)),
                     EntityWrites.Append("urn:ngsi-ld:T:2", Fragment("urn:ngsi-ld:T:2", "d", 6), noOverwrite: false),
                 })
        {
            var (current, decoded) = SqliteEntityForm.DecodeForWrite(doc);
            var after = decide(current).After!;
            var spliced = SqliteEntityForm.EncodeUtf8(after, decoded);
            Text(spliced).Should().Be(Text(SqliteEntityForm.EncodeUtf8(after)));
            Text(EntityJson.Serialize(SqliteEntityForm.Decode(spliced))).Should().Be(Text(EntityJson.Serialize(after)));
        }
    }

    [Fact]
    public void An_instance_edited_in_place_is_not_reused_by_an_encode_not_given_the_decoded_instances()
    {
        // The store passes the decoded instances only for a decision that says it replaced what it changed.
        var version = StoredEntityRenderDifferentialTests.Versions(new Random(3)).Last();
        var (current, _) = SqliteEntityForm.DecodeForWrite(SqliteEntityForm.EncodeUtf8(version));
        var instance = current.Attributes.Values.First()[0];
        instance["value"] = "edited";
        Text(EntityJson.Serialize(SqliteEntityForm.Decode(SqliteEntityForm.EncodeUtf8(current)))).Should().Contain("edited");
    }

    /// <summary>Every write decision of <see cref="EntityWrites"/> that keeps some instances, on a random attribute.</summary>
    private static IEnumerable<(string Name, Func<Entity?, EntityWrite<object>> Decide)> Decisions(Entity entity, Random random)
    {
        var id = entity.Id;
        var names = entity.Attributes.Keys.ToList();
        var iri = names.Count == 0 ? Default + "a0" : names[random.Next(names.Count)];
        var term = ContextProcessor.Core.CompactIri(iri);
        var fresh = StoredEntityRenderDifferentialTests.Parsed(id, term, term == "location"
            ? new JsonObject { ["type"] = "GeoProperty", ["value"] = new JsonObject { ["type"] = "Point", ["coordinates"] = new JsonArray(1, 2) } }
            : StoredEntityRenderDifferentialTests.Instance(random, 1));
        var one = new Entity(id) { Attributes = { [iri] = [fresh] } };
        var two = new Entity(id) { Attributes = { [iri] = [fresh.DeepClone().AsObject()], [Default + "added"] = [Parsed(id, "added", 7)] } };
        var marked = new Entity(id) { Attributes = { ["=marked"] = [Parsed(id, "m", 8)] } };
        yield return ("update one", Boxed(EntityWrites.UpdateAttributes(id, one)));
        yield return ("append two", Boxed(EntityWrites.Append(id, two, noOverwrite: false)));
        yield return ("append, no overwrite", Boxed(EntityWrites.Append(id, two, noOverwrite: true)));
        yield return ("append a name that keeps every name whole", Boxed(EntityWrites.Append(id, marked, noOverwrite: false)));
        yield return ("merge", Boxed(EntityWrites.Merge(id, one)));
        yield return ("upsert, update", Boxed(EntityWrites.Upsert(two.Clone().WithTypes(entity.Types), update: true)));
        yield return ("upsert, replace", Boxed(EntityWrites.Upsert(two.Clone().WithTypes(entity.Types), update: false)));
        yield return ("replace", Boxed(EntityWrites.Replace(id, two.Clone().WithTypes(entity.Types))));
        yield return ("purge one", Boxed(EntityWrites.Purge(null, new HashSet<string> { iri })));
        yield return ("temporal", Boxed(EntityWrites.AddTemporalInstances(new TemporalEntityInput(id, [.. entity.Types], null, one.Clone().Attributes), mustExist: true)));
        if (names.Count == 0) yield break;
        var target = entity.Attributes[iri][0];
        var datasetId = Attr.DatasetId(target);
        var replacement = fresh.DeepClone().AsObject();
        if (datasetId is not null) replacement["datasetId"] = datasetId;
        yield return ("replace attribute", Boxed(EntityWrites.ReplaceAttribute(id, iri, replacement)));
        var partial = new JsonObject { ["value"] = 42 };
        if (datasetId is not null) partial["datasetId"] = datasetId;
        if (Attr.Type(target) == Attr.Property) yield return ("partial update", Boxed(EntityWrites.PartialUpdate(id, iri, partial)));
        yield return ("delete attribute", Boxed(EntityWrites.DeleteAttribute(id, iri, datasetId, deleteAll: false)));
        yield return ("delete every instance", Boxed(EntityWrites.DeleteAttribute(id, iri, null, deleteAll: true)));
        if (entity.Scopes is { Count: > 0 }) yield return ("delete scope", Boxed(EntityWrites.DeleteAttribute(id, "scope", null, deleteAll: false)));
    }

    private static Func<Entity?, EntityWrite<object>> Boxed<T>(Func<Entity?, EntityWrite<T>> decide) => current =>
    {
        var write = decide(current);
        return new EntityWrite<object>(write.Result!, write.Kind, write.After, write.Changes, write.DeletionMarkers) { ReplacesInstances = write.ReplacesInstances };
    };

    private static Entity Fragment(string id, string name, int value) => new(id) { Attributes = { [Default + name] = [Parsed(id, name, value)] } };

    private static JsonObject Parsed(string id, string name, int value) =>
        StoredEntityRenderDifferentialTests.Parsed(id, name, new JsonObject { ["type"] = "Property", ["value"] = value });

    private static string Text(byte[] utf8) => Encoding.UTF8.GetString(utf8);
}

internal static class EntityTestExtensions
{
    public static Entity WithTypes(this Entity entity, List<string> types)
    {
        entity.Types = [.. types];
        return entity;
    }
}
