using System.Text.Json.Nodes;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using Kontext.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Tests.Sqlite;

/// <summary>
/// The fingerprints read after a decision, of what it changed only (<see cref="SqliteIndexRows.CaptureAround"/>, issue
/// 12), against the whole entity read before and after it (<see cref="SqliteIndexRows.Capture"/>): the same staged
/// index-row changes and the same statistics keys, over varied entities and every decision of the API.
/// </summary>
public sealed class SqliteCaptureAroundTests : IDisposable
{
    private const string Id = "urn:ngsi-ld:T:around";
    private readonly SqliteTestDirectory _directory = new("around");
    private readonly SqliteConnection _connection;

    public SqliteCaptureAroundTests()
    {
        Directory.CreateDirectory(_directory.Path);
        _connection = new SqliteConnection(SqliteDatabase.ConnectionString(_directory.DbPath, pooled: false));
        _connection.Open();
        SqliteMigrations.Apply(_connection, SqliteMigrations.Tenant);
    }

    public void Dispose()
    {
        _connection.Dispose();
        _directory.Dispose();
    }

    private static readonly string[] Entities =
    [
        """
        {"id":"urn:ngsi-ld:T:around","type":["T","U"],"scope":["/a/b","/c"],
         "no2":{"type":"Property","value":21.5,"unitCode":"GP","observedAt":"2026-01-01T00:00:00Z"},
         "name":{"type":"Property","value":"Gran Vía","note":{"type":"Property","value":"x"}},
         "location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[-3.7,40.4]}},
         "owner":{"type":"Relationship","object":"urn:ngsi-ld:P:1"},
         "label":{"type":"LanguageProperty","languageMap":{"en":"road","es":"calle"}}}
        """,
        """
        {"id":"urn:ngsi-ld:T:around","type":"T",
         "temp":[{"type":"Property","value":20,"datasetId":"urn:ngsi-ld:d:1"},{"type":"Property","value":"hot","datasetId":"urn:ngsi-ld:d:2"},{"type":"Property","value":[1,"a",true]}],
         "area":{"type":"GeoProperty","value":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}},
         "zero":{"type":"Property","value":0},
         "flag":{"type":"Property","value":true},
         "meta":{"type":"Property","value":{"a":1,"b":"c"}},
         "near":[{"type":"Relationship","object":"urn:ngsi-ld:P:1","datasetId":"urn:ngsi-ld:d:1"},{"type":"Relationship","object":["urn:ngsi-ld:P:2","urn:ngsi-ld:P:3"]}]}
        """,
    ];

    private static Entity Fragment(string json) => EntityParser.ParseFragment(JsonNode.Parse(json)!.AsObject(), ContextProcessor.Core, ParseMode.Update, Id);
    private static Entity Whole(string json) => EntityParser.ParseEntity(JsonNode.Parse(json)!.AsObject(), ContextProcessor.Core, ParseMode.Full);
    private static string Term(string name) => ContextProcessor.Core.ExpandTerm(name);
    private static JsonObject Object(string json) => JsonNode.Parse(json)!.AsObject();

    /// <summary>The decisions, each replacing the instances it changes (the API's own, <see cref="EntityWrites"/>).</summary>
    private static IEnumerable<(string Name, Func<Entity?, EntityWrite<bool>>? Decide)> Decisions()
    {
        static Func<Entity?, EntityWrite<bool>> Bool<T>(Func<Entity?, EntityWrite<T>> decide) => current =>
        {
            var write = decide(current);
            return EntityWrite<bool>.Upsert(write.After!, write.Changes, true) with { ReplacesInstances = write.ReplacesInstances };
        };
        // An attribute of the core context keeps its kind (location is a GeoProperty): a fragment the parser refuses is left out.
        static Func<Entity?, EntityWrite<bool>>? Set(string attribute, string instance)
        {
            try { return Bool(EntityWrites.Append(Id, Fragment($"{{\"{attribute}\":{instance}}}"), noOverwrite: false)); }
            catch (Kontext.Ngsi.Errors.NgsiException) { return null; }
        }
        foreach (var attribute in new[] { "no2", "name", "location", "owner", "label", "temp", "area", "zero", "flag", "meta", "near", "absent" })
        {
            yield return ($"new value of {attribute}", Set(attribute, """{"type":"Property","value":42}"""));
            yield return ($"same value of {attribute}", Set(attribute, """{"type":"Property","value":21.5,"unitCode":"GP","observedAt":"2026-01-01T00:00:00Z"}"""));
            yield return ($"moved {attribute}", Set(attribute, """{"type":"GeoProperty","value":{"type":"Point","coordinates":[2.17,41.38]}}"""));
            yield return ($"related {attribute}", Set(attribute, """{"type":"Relationship","object":"urn:ngsi-ld:P:9"}"""));
            yield return ($"second dataset of {attribute}", Set(attribute, """{"type":"Property","value":"b","datasetId":"urn:ngsi-ld:d:2"}"""));
            yield return ($"language of {attribute}", Set(attribute, """{"type":"LanguageProperty","languageMap":{"fr":"rue"}}"""));
            yield return ($"deleted {attribute}", current => current?.Attributes.ContainsKey(Term(attribute)) == true
                ? EntityWrites.DeleteAttribute(Id, Term(attribute), null, deleteAll: true)(current)
                : EntityWrite<bool>.Upsert(current!, [], true) with { ReplacesInstances = true });
        }
        yield return ("two attributes", Bool(EntityWrites.Append(Id, Fragment("""{"no2":{"type":"Property","value":1},"temp":{"type":"Property","value":"x","datasetId":"urn:ngsi-ld:d:1"}}"""), noOverwrite: false)));
        yield return ("sub-attribute of name", current => current?.Attributes.ContainsKey(Term("name")) == true
            ? EntityWrites.PartialUpdate(Id, Term("name"), Object("""{"note":{"type":"Property","value":"y"}}"""))(current)
            : EntityWrite<bool>.Upsert(current!, [], true) with { ReplacesInstances = true });
        yield return ("merge", EntityWrites.Merge(Id, Fragment("""{"type":"V","no2":{"type":"Property","value":3},"zero":{"type":"Property","value":-0.0}}""")));
        yield return ("replace", EntityWrites.Replace(Id, Whole("""{"id":"urn:ngsi-ld:T:around","type":"T","no2":{"type":"Property","value":21.5}}""")));
        yield return ("purge", EntityWrites.Purge(null, new HashSet<string> { Term("no2"), Term("temp") }));
        yield return ("nothing changed", current => EntityWrite<bool>.Upsert(current!, [], true) with { ReplacesInstances = true });
    }

    [Fact]
    public void Fingerprints_read_after_a_decision_stage_the_rows_and_statistics_of_the_whole_entity_read_before_and_after()
    {
        var compared = 0;
        foreach (var json in Entities)
        {
            var stored = SqliteEntityForm.EncodeUtf8(Whole(json));
            foreach (var (name, decide) in Decisions())
            {
                if (decide is null) continue;
                var slowBefore = SqliteIndexRows.Capture(SqliteEntityForm.Decode(stored))!;
                var current = SqliteEntityForm.Decode(stored);
                var captured = SqliteIndexRows.CaptureInstances(current)!;
                var write = decide(current);
                write.ReplacesInstances.Should().BeTrue(name);
                var after = write.After!;
                var slowAfter = SqliteIndexRows.Capture(after)!;
                var (fastBefore, fastAfter) = SqliteIndexRows.CaptureAround(captured, after, unchangedUnread: true);
                var doc = SqliteEntityForm.EncodeUtf8(after);

                Staged(SqliteIndexRows.UpdatedEntityRows(_connection, 1, fastBefore, after, doc, fastAfter))
                    .Should().Equal(Staged(SqliteIndexRows.UpdatedEntityRows(_connection, 1, slowBefore, after, doc, slowAfter)), name);
                SqliteIndexRows.StatisticKeys(fastBefore).Should().BeEquivalentTo(SqliteIndexRows.StatisticKeys(slowBefore), name);
                SqliteIndexRows.StatisticKeys(fastAfter).Should().BeEquivalentTo(SqliteIndexRows.StatisticKeys(slowAfter), name);
                SqliteIndexRows.StatisticKeys(captured.KindsOnly()).Should().BeEquivalentTo(SqliteIndexRows.StatisticKeys(slowBefore), name);

                // Read in full (the unstaged write's before), the fingerprints are the whole entity's.
                var (readBefore, readAfter) = SqliteIndexRows.CaptureAround(SqliteIndexRows.CaptureInstances(SqliteEntityForm.Decode(stored))!, write.After!, unchangedUnread: false);
                readBefore.Attributes.Should().Equal(slowBefore.Attributes, name);
                readAfter.Attributes.Should().Equal(slowAfter.Attributes, name);
                compared++;
            }
        }
        compared.Should().BeGreaterThan(2 * 12 * 6, "every decision on each entity, but location's refused fragments");
    }

    /// <summary>
    /// The state after a decision holds the entity's types and scopes after it, whether the decision kept them (the
    /// set before is reused) or changed them (a new set; the one before is left as it was).
    /// </summary>
    [Fact]
    public void The_state_after_a_decision_holds_its_types_and_scopes_kept_or_changed()
    {
        var stored = SqliteEntityForm.EncodeUtf8(Whole(Entities[0]));
        foreach (var (types, scopes) in new (List<string>, List<string>?)[] { (["T", "U"], ["/c", "/a/b"]), (["T"], ["/a/b", "/c"]), (["T", "U", "V"], null), (["U", "T"], []), (["T", "U"], ["/d"]) })
        {
            var current = SqliteEntityForm.Decode(stored);
            var captured = SqliteIndexRows.CaptureInstances(current)!;
            current.Types = [.. types.Select(Term)];
            current.Scopes = scopes;
            var (before, after) = SqliteIndexRows.CaptureAround(captured, current, unchangedUnread: true);
            before.Types.Should().BeEquivalentTo([Term("T"), Term("U")]);
            before.Scopes.Should().BeEquivalentTo(["/a/b", "/c"]);
            after.Types.Should().BeEquivalentTo(current.Types);
            after.Scopes.Should().BeEquivalentTo(scopes ?? []);
        }
    }

    /// <summary>Every staged change, as text (the name ids come from this test's own file).</summary>
    private static List<string> Staged(SqliteGroupRows.EntityUpdate rows) =>
    [
        $"types {string.Join(",", rows.Types ?? [])}",
        $"scopes {string.Join(",", rows.Scopes ?? [])}",
        .. rows.DroppedAttributes.Select(a => $"dropped attribute {a}"),
        .. rows.Attributes.Select(a => $"attribute {a}"),
        .. rows.Kinds.Select(k => $"kinds {k}"),
        .. rows.DroppedValues.Select(v => $"dropped values {v}"),
        .. rows.Values.Select(v => $"value {v}"),
        .. rows.ValuesInPlace.Select(v => $"value in place {v}"),
        .. rows.DroppedGeometries.Select(g => $"dropped geometries {g}"),
        .. rows.Geometries.Select(g => $"geometry {g}"),
    ];
}
