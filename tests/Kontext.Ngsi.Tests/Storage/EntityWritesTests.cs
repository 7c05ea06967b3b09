using System.Text;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using static Kontext.Ngsi.Tests.T;

namespace Kontext.Ngsi.Tests.Storage;

public class EntityWritesTests
{
    private const string Id = "urn:ngsi-ld:Vehicle:1";

    // What a store hands a decision: its own fresh copy of the stored entity, each time the decision runs.
    private static Entity Stored(DateTimeOffset? expiresAt = null)
    {
        var entity = new EntityOperations(DateTimeOffset.UtcNow.AddMinutes(-5)).Create(Parse($$"""
            { "id": "{{Id}}", "type": "Vehicle", "scope": "/Madrid", "speed": { "type": "Property", "value": 80 }, "name": "Herbie" }
            """));
        entity.ExpiresAt = expiresAt;
        return entity;
    }

    private static Entity Whole() => Parse($$"""
        { "id": "{{Id}}", "type": "Vehicle", "scope": ["/Berlin"], "speed": { "value": 99, "observedAt": "2024-01-01T00:00:00Z" }, "brand": "VW" }
        """);

    private static Entity Fragment(ParseMode mode = ParseMode.Full) =>
        EntityParser.ParseFragment(Obj("""{ "type": "Car", "scope": ["/Berlin"], "speed": { "value": 99, "accuracy": { "value": 1 } }, "brand": "VW" }"""), User, mode, Id);

    private static JsonObject Instance(string json) => EntityParser.ParseAttribute("speed", Iri("speed"), JsonNode.Parse(json), User, ParseMode.Full).Single();

    private static string Json(Entity entity) => Encoding.UTF8.GetString(EntityJson.Serialize(entity));

    public static TheoryData<string> WritesTakingAnEntity => ["create", "upsert-replace", "upsert-update", "replace", "merge", "append", "update"];

    private static (Entity Input, Func<Entity?, EntityWrite<object>> Decide, bool OnNew) Write(string name)
    {
        Func<Entity?, EntityWrite<object>> Box<T>(Func<Entity?, EntityWrite<T>> d) => current => d(current) is var w
            ? new EntityWrite<object>(w.Result!, w.Kind, w.After, w.Changes, w.DeletionMarkers) : null!;
        return name switch
        {
            "create" => Input(Whole(), e => Box(EntityWrites.Create(e)), onNew: true),
            "upsert-replace" => Input(Whole(), e => Box(EntityWrites.Upsert(e, update: false))),
            "upsert-update" => Input(Whole(), e => Box(EntityWrites.Upsert(e, update: true))),
            "replace" => Input(Whole(), e => Box(EntityWrites.Replace(Id, e))),
            "merge" => Input(Fragment(ParseMode.Merge), e => Box(EntityWrites.Merge(Id, e))),
            "append" => Input(Fragment(), e => Box(EntityWrites.Append(Id, e, noOverwrite: false))),
            "update" => Input(Fragment(ParseMode.Update), e => Box(EntityWrites.UpdateAttributes(Id, e))),
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };

        static (Entity, Func<Entity?, EntityWrite<object>>, bool) Input(Entity input, Func<Entity, Func<Entity?, EntityWrite<object>>> write, bool onNew = false) =>
            (input, write(input), onNew);
    }

    [Theory, MemberData(nameof(WritesTakingAnEntity))]
    public void A_write_never_changes_the_callers_entity_even_when_the_store_runs_it_twice(string name)
    {
        var (input, decide, onNew) = Write(name);
        var before = Json(input);

        var first = decide(onNew ? null : Stored());
        var second = decide(onNew ? null : Stored());

        Json(input).Should().Be(before);
        first.After.Should().NotBeNull().And.NotBeSameAs(input);
        second.After!.Attributes.Keys.Should().Equal(first.After.Attributes.Keys);
        second.After.FindInstance(Iri("speed"), null)!["value"]!.GetValue<int>().Should().Be(99);
    }

    public static TheoryData<string> WritesTakingOverAnEntity => ["create", "upsert-replace"];

    [Theory, MemberData(nameof(WritesTakingOverAnEntity))]
    public void A_handed_over_entity_is_kept_by_the_first_run_and_a_retry_writes_what_a_fresh_copy_would(string name)
    {
        var onNew = name == "create";
        var handed = Whole();
        var decide = onNew ? EntityWrites.Create(handed, handedOver: true) : EntityWrites.Upsert(handed, update: false, handedOver: true);
        var copied = onNew ? EntityWrites.Create(Whole()) : EntityWrites.Upsert(Whole(), update: false);

        var first = decide(onNew ? null : Stored());
        var retry = decide(onNew ? null : Stored());
        var fresh = copied(onNew ? null : Stored());

        first.After.Should().BeSameAs(handed, "the first run saves the copy");
        retry.After.Should().NotBeSameAs(handed);
        WithoutTimes(retry.After!).Should().Be(WithoutTimes(fresh.After!));
        retry.Changes.Select(c => (c.Attribute, c.Kind)).Should().Equal(fresh.Changes.Select(c => (c.Attribute, c.Kind)));
        foreach (var instance in retry.After!.Attributes.Values.SelectMany(i => i))
            instance["modifiedAt"]!.GetValue<string>().Should().Be(Validate.Format(retry.After.ModifiedAt), "the retry stamps its own time");
    }

    [Fact]
    public void An_update_handed_its_fragment_keeps_the_fragments_instances_on_the_first_run_and_a_retry_writes_what_a_copy_would()
    {
        var handed = Fragment(ParseMode.Update);
        var speed = handed.Attributes[Iri("speed")].Single();
        var decide = EntityWrites.UpdateAttributes(Id, handed, handedOver: true);

        var first = decide(Stored());
        var retry = decide(Stored());
        var copied = EntityWrites.UpdateAttributes(Id, Fragment(ParseMode.Update))(Stored());

        first.After!.Attributes[Iri("speed")].Single().Should().BeSameAs(speed, "the first run saves the copy");
        retry.After!.Attributes[Iri("speed")].Single().Should().NotBeSameAs(speed);
        WithoutTimes(first.After).Should().Be(WithoutTimes(copied.After!));
        WithoutTimes(retry.After).Should().Be(WithoutTimes(copied.After!));
        retry.Changes.Select(c => (c.Attribute, c.Kind)).Should().Equal(copied.Changes.Select(c => (c.Attribute, c.Kind)));
        var retried = retry.After.Attributes[Iri("speed")].Single();
        retried["modifiedAt"]!.GetValue<string>().Should().Be(Validate.Format(retry.After.ModifiedAt), "the retry stamps its own time");
        retried[Iri("accuracy")]!["modifiedAt"]!.GetValue<string>().Should().Be(Validate.Format(retry.After.ModifiedAt));
    }

    /// <summary>The entity's JSON without system times at any depth (sub-attributes and every instance carry them too).</summary>
    private static string WithoutTimes(Entity entity)
    {
        var json = JsonNode.Parse(Json(entity))!;
        RemoveTimes(json);
        return json.ToJsonString();
    }

    private static void RemoveTimes(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject member:
                member.Remove("createdAt");
                member.Remove("modifiedAt");
                foreach (var (_, value) in member) RemoveTimes(value);
                break;
            case JsonArray items:
                foreach (var item in items) RemoveTimes(item);
                break;
        }
    }

    [Theory, MemberData(nameof(WritesTakingAnEntity))]
    public void The_written_entity_shares_nothing_with_the_callers_entity(string name)
    {
        var (input, decide, onNew) = Write(name);
        var before = Json(input);

        var after = decide(onNew ? null : Stored()).After!;
        after.Types.Add("urn:changed");
        after.Scopes?.Add("/changed");
        foreach (var instance in after.Attributes.Values.SelectMany(i => i)) instance["value"] = "changed";

        Json(input).Should().Be(before);
    }

    [Fact]
    public void Attribute_writes_never_change_the_callers_fragment()
    {
        var partial = Instance("""{ "value": 5 }""");
        var replacement = Instance("""{ "value": 6, "unitCode": "KMH" }""");
        var (partialBefore, replacementBefore) = (partial.ToJsonString(), replacement.ToJsonString());

        var updated = EntityWrites.PartialUpdate(Id, Iri("speed"), partial)(Stored()).After!;
        var replaced = EntityWrites.ReplaceAttribute(Id, Iri("speed"), replacement)(Stored()).After!;
        updated.FindInstance(Iri("speed"), null)!["value"] = "changed";
        replaced.FindInstance(Iri("speed"), null)!["value"] = "changed";

        partial.ToJsonString().Should().Be(partialBefore);
        replacement.ToJsonString().Should().Be(replacementBefore);
    }

    public static TheoryData<string> WritesOnAnExistingEntity =>
        ["replace", "merge", "append", "update", "partial-update", "replace-attribute", "delete-attribute", "delete-scope", "delete"];

    private static Action Run(string name, Entity? current, IReadOnlyCollection<string>? anyType = null) => name switch
    {
        "replace" => () => EntityWrites.Replace(Id, Whole(), anyType)(current),
        "merge" => () => EntityWrites.Merge(Id, Fragment(ParseMode.Merge), anyType)(current),
        "append" => () => EntityWrites.Append(Id, Fragment(), noOverwrite: true, anyType)(current),
        "update" => () => EntityWrites.UpdateAttributes(Id, Fragment(ParseMode.Update), anyType)(current),
        "partial-update" => () => EntityWrites.PartialUpdate(Id, Iri("speed"), Instance("""{ "value": 5 }"""), anyType)(current),
        "replace-attribute" => () => EntityWrites.ReplaceAttribute(Id, Iri("speed"), Instance("""{ "value": 5 }"""), anyType)(current),
        "delete-attribute" => () => EntityWrites.DeleteAttribute(Id, Iri("speed"), null, deleteAll: false, anyType)(current),
        "delete-scope" => () => EntityWrites.DeleteAttribute(Id, "scope", null, deleteAll: false, anyType)(current),
        "delete" => () => EntityWrites.Delete(Id, anyType)(current),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory, MemberData(nameof(WritesOnAnExistingEntity))]
    public void A_write_on_a_missing_entity_is_ResourceNotFound(string name) =>
        Run(name, null).Should().Throw<NgsiException>().Which.Error.Type.Should().EndWith("ResourceNotFound");

    [Theory, MemberData(nameof(WritesOnAnExistingEntity))]
    public void A_write_on_an_expired_entity_is_ResourceNotFound(string name) =>
        Run(name, Stored(expiresAt: DateTimeOffset.UtcNow.AddSeconds(-1))).Should().Throw<NgsiException>().Which.Error.Type.Should().EndWith("ResourceNotFound");

    [Theory, MemberData(nameof(WritesOnAnExistingEntity))]
    public void A_write_on_an_entity_of_none_of_the_requested_types_is_ResourceNotFound(string name) =>
        Run(name, Stored(), anyType: [Iri("Bicycle")]).Should().Throw<NgsiException>().Which.Error.Type.Should().EndWith("ResourceNotFound");

    [Theory, MemberData(nameof(WritesOnAnExistingEntity))]
    public void A_write_on_an_entity_of_a_requested_type_goes_ahead(string name) =>
        Run(name, Stored(), anyType: [Iri("Bicycle"), Iri("Vehicle")]).Should().NotThrow();

    [Fact]
    public void Create_on_an_existing_entity_is_AlreadyExists_and_on_an_expired_one_creates_it()
    {
        var create = EntityWrites.Create(Whole());
        create.Invoking(c => c(Stored())).Should().Throw<NgsiException>().Which.Error.Type.Should().EndWith("AlreadyExists");
        create(Stored(expiresAt: DateTimeOffset.UtcNow.AddSeconds(-1))).Kind.Should().Be(EntityWriteKind.Upsert);
    }

    [Fact]
    public void Upsert_reports_whether_it_created_the_entity()
    {
        EntityWrites.Upsert(Whole(), update: false)(null).Result.Should().BeTrue();
        EntityWrites.Upsert(Whole(), update: true)(Stored()).Result.Should().BeFalse();
    }

    [Fact]
    public void Delete_of_a_missing_entity_writes_nothing_when_absence_is_fine()
    {
        var write = EntityWrites.Delete(Id, absentIsNothing: true)(null);
        write.Kind.Should().Be(EntityWriteKind.None);
        write.Result.Should().BeFalse();
    }

    [Fact]
    public void Update_attributes_that_changes_nothing_writes_nothing()
    {
        var fragment = EntityParser.ParseFragment(Obj("""{ "brand": "urn:ngsi-ld:null" }"""), User, ParseMode.Update, Id);
        var write = EntityWrites.UpdateAttributes(Id, fragment)(Stored());
        write.Kind.Should().Be(EntityWriteKind.None);
        write.Result.NotUpdated.Should().ContainSingle();
    }

    [Fact]
    public void Deleting_a_temporal_attribute_the_entity_lacks_writes_nothing()
    {
        EntityWrites.DeleteAttributeIfPresent(Iri("brand"), null, deleteAll: true)(Stored()).Kind.Should().Be(EntityWriteKind.None);
        EntityWrites.DeleteAttributeIfPresent(Iri("speed"), null, deleteAll: false)(null).Kind.Should().Be(EntityWriteKind.None);
        EntityWrites.DeleteAttributeIfPresent(Iri("speed"), null, deleteAll: false)(Stored()).After!.Attributes.Should().NotContainKey(Iri("speed"));
    }

    [Fact]
    public void Purge_deletes_the_entity_or_only_the_selected_attributes()
    {
        EntityWrites.Purge(null, null)(null).Kind.Should().Be(EntityWriteKind.None);
        EntityWrites.Purge(null, null)(Stored()).Kind.Should().Be(EntityWriteKind.Delete);
        EntityWrites.Purge(null, new HashSet<string> { Iri("brand") })(Stored()).Kind.Should().Be(EntityWriteKind.None);
        EntityWrites.Purge(new HashSet<string> { Iri("speed") }, null)(Stored()).After!.Attributes.Keys.Should().Equal(Iri("speed"));
    }
}
