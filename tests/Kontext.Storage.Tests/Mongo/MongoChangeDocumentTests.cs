using System.Text;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Model;
using Kontext.Storage.Mongo;
using Kontext.Storage.Tests.Mongo.Recording;
using MongoDB.Bson;

namespace Kontext.Storage.Tests.Mongo;

/// <summary>
/// Compact change records (issue 12): an update's change-log entry holds the entity after it and only what differed before;
/// the change log still gives every reader the whole entity before and after.
/// </summary>
public sealed class MongoChangeDocumentTests
{
    private const string Ns = "https://uri.etsi.org/ngsi-ld/default-context/";

    private static Entity Meter(int attributes) => FakeTenant.Parse(new JsonObject(
        new[] { new KeyValuePair<string, JsonNode?>("id", "urn:ngsi-ld:Meter:1"), new("type", "Meter") }
            .Concat(Enumerable.Range(0, attributes).Select(i => new KeyValuePair<string, JsonNode?>("p" + i,
                new JsonObject { ["type"] = "Property", ["value"] = i, ["observedAt"] = "2024-01-01T00:00:00Z", ["unitCode"] = "CEL" })))).ToJsonString());

    /// <summary>The entity as stored, its attributes in name order (the order of attributes carries no meaning).</summary>
    private static string Canonical(string json)
    {
        var entity = EntityJson.Deserialize(json);
        var sorted = entity.Clone();
        sorted.Attributes.Clear();
        foreach (var name in entity.Attributes.Keys.Order(StringComparer.Ordinal)) sorted.Attributes[name] = entity.Attributes[name];
        return Encoding.UTF8.GetString(EntityJson.Serialize(sorted));
    }

    private static string Json(Entity entity) => Encoding.UTF8.GetString(EntityJson.Serialize(entity));

    [Fact]
    public void An_update_records_the_entity_after_it_and_only_what_differed_before()
    {
        var before = Meter(10);
        var after = before.Clone();
        after.Attributes[Ns + "p3"][0]["value"] = 42;
        after.ModifiedAt = before.ModifiedAt.AddSeconds(1);

        var compact = MongoChangeDocument.Update(7, before.Id, DateTimeOffset.UtcNow, before, after, Json(after));
        var whole = MongoChangeDocument.Whole(7, before.Id, "update", DateTimeOffset.UtcNow, Json(before), Json(after));

        var prior = JsonNode.Parse(compact["prior"].AsString)!.AsObject();
        prior["attrs"]!.AsObject().Select(a => a.Key).Should().Equal(Ns + "p3");
        prior["attrs"]![Ns + "p3"]![0]!["value"]!.GetValue<int>().Should().Be(3);
        prior["absent"]!.AsArray().Should().BeEmpty();
        compact.Contains("before").Should().BeFalse();
        MongoWriteLimits.Size(compact).Should().BeLessThan(MongoWriteLimits.Size(whole) * 2 / 3, "one entity and one attribute instead of two entities");
    }

    [Fact]
    public void The_entity_before_an_update_is_put_back_together_exactly()
    {
        var before = Meter(4);
        before.Scopes = ["/city/north"];
        var cases = new List<Action<Entity>>
        {
            e => e.Attributes[Ns + "p0"][0]["value"] = 99,                                                       // a value
            e => e.Attributes[Ns + "new"] = [new JsonObject { ["type"] = "Property", ["value"] = "x" }],          // an attribute created
            e => e.Attributes.Remove(Ns + "p1"),                                                                  // an attribute deleted
            e => e.Attributes[Ns + "p2"].Add(new JsonObject { ["type"] = "Property", ["value"] = 1, ["datasetId"] = "urn:ngsi-ld:Dataset:b" }),
            e => e.Types = [.. e.Types, Ns + "Other"],                                                            // a type appended
            e => e.Scopes = null,                                                                                 // scope removed
            e => e.ExpiresAt = DateTimeOffset.UnixEpoch.AddYears(60),                                             // expiry set
            e => { e.Attributes.Clear(); e.Attributes[Ns + "only"] = [new JsonObject { ["type"] = "Relationship", ["object"] = "urn:ngsi-ld:X:1" }]; },
        };
        foreach (var (change, index) in cases.Select((c, i) => (c, i)))
        {
            var after = before.Clone();
            change(after);
            after.ModifiedAt = before.ModifiedAt.AddMinutes(1);

            var record = MongoChangeDocument.Record(MongoChangeDocument.Update(index, before.Id, DateTimeOffset.UtcNow, before, after, Json(after)));

            Canonical(record.BeforeJson!).Should().Be(Canonical(Json(before)), $"case {index}");
            record.AfterJson.Should().Be(Json(after));
        }
    }

    [Fact]
    public void A_change_written_whole_by_an_earlier_version_is_read_as_it_is()
    {
        var before = Meter(2);
        var after = before.Clone();
        after.Attributes.Remove(Ns + "p0");

        var record = MongoChangeDocument.Record(MongoChangeDocument.Whole(3, before.Id, "update", DateTimeOffset.UtcNow, Json(before), Json(after)));

        (record.Sequence, record.Operation, record.BeforeJson, record.AfterJson).Should().Be((3L, "update", Json(before), Json(after)));
    }

    [Fact]
    public async Task The_change_log_gives_every_write_the_whole_entity_before_and_after_it()
    {
        var server = new FakeMongoServer();
        var store = await FakeTenant.OpenAsync(server, new MongoStoreOptions { BackgroundMaintenance = false });
        await FakeTenant.SubscribeAsync(store); // the log has a reader
        await FakeTenant.CreateAsync(store, """{"id":"urn:ngsi-ld:S:1","type":"Sensor","a":{"type":"Property","value":1},"b":{"type":"Property","value":"x"}}""");
        var created = Json((await store.GetEntityAsync("urn:ngsi-ld:S:1", default))!);
        await FakeTenant.UpdateAsync(store, """{"id":"urn:ngsi-ld:S:1","type":"Sensor","a":{"type":"Property","value":2}}""");
        var updated = Json((await store.GetEntityAsync("urn:ngsi-ld:S:1", default))!);
        await store.WriteAsync("urn:ngsi-ld:S:1", _ => Kontext.Ngsi.Storage.EntityWrite<bool>.Delete(true), default);

        var changes = await store.ReadChangesAsync(0, 10, default);

        changes.Select(c => c.Operation).Should().Equal("create", "update", "delete");
        changes[0].BeforeJson.Should().BeNull();
        Canonical(changes[1].BeforeJson!).Should().Be(Canonical(created), "the entity before the update is the one the creation stored");
        Canonical(changes[2].BeforeJson!).Should().Be(Canonical(updated), "the entity deleted is the one the update stored");
        changes[2].AfterJson.Should().BeNull();
        EntityJson.Deserialize(changes[1].AfterJson!).Attributes[Ns + "a"][0]["value"]!.GetValue<int>().Should().Be(2);
        var stored = server.Existing("kontext", "changes")!.Stored.Single(d => d["op"] == "update");
        JsonNode.Parse(stored["prior"].AsString)!["attrs"]!.AsObject().Select(a => a.Key).Should().Equal(Ns + "a");
    }
}
