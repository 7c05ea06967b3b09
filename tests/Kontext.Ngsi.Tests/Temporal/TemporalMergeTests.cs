using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using Kontext.Ngsi.Temporal;
using Kontext.Ngsi.Tests.ContextSources;

namespace Kontext.Ngsi.Tests.Temporal;

/// <summary>Merging local history with the instances context sources answered (clause 4.3.6 with 5.7.3.4/5.7.4.4), and reading those answers.</summary>
public sealed class TemporalMergeTests
{
    private const string Entity = "urn:ngsi-ld:Bus:1";
    private static readonly string Speed = T.DefaultVocab + "speed";
    private static readonly DateTimeOffset Day = new(2026, 5, 1, 0, 0, 0, TimeSpan.Zero);

    private static AttributeInstanceRecord Record(int hour, string? datasetId = null, string? instanceId = null, bool deleted = false) =>
        new(Entity, Speed, datasetId, instanceId ?? $"urn:i:{hour}:{datasetId}", deleted ? AttributeChangeKind.Deleted : AttributeChangeKind.Updated,
            Day.AddHours(hour), Day.AddDays(10).AddHours(hour), deleted ? """{"type":"Property"}""" : $$"""{"type":"Property","value":{{hour}}}""");

    private static TemporalInstance Local(int hour, string? datasetId = null) => new(Record(hour, datasetId, $"urn:local:{hour}"), Day.AddHours(hour));

    private static TemporalReadRequest Read(int limit = 100, bool newest = false, TemporalTimeProperty time = TemporalTimeProperty.ObservedAt,
        DateTimeOffset? from = null, DateTimeOffset? to = null) =>
        new([Entity], null, time, from, true, to, limit, newest);

    private static List<int> Hours(IEnumerable<TemporalInstance> instances) => instances.Select(i => (int)(i.Time - Day).TotalHours).ToList();

    [Fact]
    public void Local_and_remote_instances_merge_into_one_series_in_time_order()
    {
        var merged = TemporalMerge.Merge([Local(2), Local(5)], [Record(1), Record(3), Record(4)], Read());

        Hours(merged).Should().Equal(1, 2, 3, 4, 5);
    }

    [Fact]
    public void LastN_keeps_the_newest_of_the_merged_series()
    {
        var merged = TemporalMerge.Merge([Local(1), Local(6)], [Record(2), Record(4), Record(5)], Read(limit: 3, newest: true));

        Hours(merged).Should().Equal(4, 5, 6);
    }

    [Fact]
    public void The_instance_limit_cuts_the_merged_series_from_its_start()
    {
        Hours(TemporalMerge.Merge([Local(3)], [Record(1), Record(2), Record(4)], Read(limit: 2))).Should().Equal(1, 2);
    }

    [Fact]
    public void An_instance_held_on_both_sides_at_the_same_time_and_datasetId_appears_once_as_the_local_one()
    {
        var merged = TemporalMerge.Merge([Local(1, "urn:ds:x")], [Record(1, "urn:ds:x"), Record(1, "urn:ds:y")], Read());

        merged.Select(i => i.Record.InstanceId).Should().Equal("urn:local:1", "urn:i:1:urn:ds:y");
    }

    [Fact]
    public void Remote_instances_outside_the_window_are_left_out()
    {
        var merged = TemporalMerge.Merge([], [Record(1), Record(2), Record(3)], Read(from: Day.AddHours(2), to: Day.AddHours(3)));

        Hours(merged).Should().Equal(2);
    }

    [Fact]
    public void A_deletedAt_window_holds_only_deletions_and_a_createdAt_window_none()
    {
        var remote = new[] { Record(1), Record(2, deleted: true) };

        TemporalMerge.Merge([], remote, Read(time: TemporalTimeProperty.DeletedAt)).Should().ContainSingle().Which.Record.Kind.Should().Be(AttributeChangeKind.Deleted);
        TemporalMerge.Merge([], remote, Read(time: TemporalTimeProperty.CreatedAt)).Should().ContainSingle().Which.Record.Kind.Should().NotBe(AttributeChangeKind.Deleted);
    }

    [Fact]
    public void Remote_instances_of_other_entities_or_attributes_are_not_read()
    {
        var other = Record(1) with { EntityId = "urn:ngsi-ld:Bus:2" };
        var request = Read() with { Attributes = new HashSet<string> { T.DefaultVocab + "rpm" } };

        TemporalMerge.Merge([], [other], Read()).Should().BeEmpty();
        TemporalMerge.Merge([], [Record(1)], request).Should().BeEmpty();
    }

    [Fact]
    public void A_source_answer_is_read_into_history_records_with_its_instance_ids_and_deletions()
    {
        var answer = T.Obj("""
            {"id": "urn:ngsi-ld:Bus:1", "type": "Bus", "scope": "/Madrid",
             "speed": [{"type": "Property", "value": 10, "observedAt": "2026-05-01T00:00:00Z", "instanceId": "urn:i:a",
                        "createdAt": "2026-05-10T00:00:00Z", "modifiedAt": "2026-05-10T01:00:00Z"},
                       {"type": "Property", "value": "urn:ngsi-ld:null", "instanceId": "urn:i:b", "deletedAt": "2026-05-11T00:00:00Z"}]}
            """);

        var read = SourceTemporalEntities.ReadOne(answer, ContextProcessor.Core, Day);

        read.Head.Types.Should().Equal(T.DefaultVocab + "Bus");
        read.Head.Scopes.Should().Equal("/Madrid");
        read.Instances.Select(i => (i.InstanceId, i.Kind)).Should().Equal(("urn:i:a", AttributeChangeKind.Updated), ("urn:i:b", AttributeChangeKind.Deleted));
        read.Instances[0].ModifiedAt.Should().Be(new DateTimeOffset(2026, 5, 10, 1, 0, 0, TimeSpan.Zero));
        read.Instances[1].ModifiedAt.Should().Be(new DateTimeOffset(2026, 5, 11, 0, 0, 0, TimeSpan.Zero), "a deletion's time is its deletedAt");
    }

    [Fact]
    public void An_answer_that_is_not_a_temporal_entity_array_is_BadRequestData()
    {
        ((Action)(() => SourceTemporalEntities.ReadMany(T.Obj("""{"id": "urn:ngsi-ld:Bus:1"}"""), ContextProcessor.Core, Day))).ShouldBeBadRequestData();
    }

    [Fact]
    public void A_registration_is_asked_only_when_its_observationInterval_overlaps_an_observedAt_window()
    {
        var registration = RegistrationParserTests.Parse(RegistrationParserTests.Vehicles[..^1] + """
            , "observationInterval": {"startAt": "2026-01-01T00:00:00Z", "endAt": "2026-02-01T00:00:00Z"}}
            """);
        var march = TemporalQuery.Parse("between", "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", null, null);
        var january = TemporalQuery.Parse("after", "2026-01-15T00:00:00Z", null, null, null);
        var byModification = TemporalQuery.Parse("between", "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", "modifiedAt", null);

        TemporalMerge.MayHold(registration, march).Should().BeFalse();
        TemporalMerge.MayHold(registration, january).Should().BeTrue();
        TemporalMerge.MayHold(registration, byModification).Should().BeTrue("it names no managementInterval");
    }
}
