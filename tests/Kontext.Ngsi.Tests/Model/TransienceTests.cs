using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using static Kontext.Ngsi.Tests.T;

namespace Kontext.Ngsi.Tests.Model;

/// <summary>Transient entities and attribute instances (clause 4.22) as pure functions of the clock.</summary>
public class TransienceTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private static Entity Entity(string json) => new EntityOperations(Now.AddHours(-1)).Create(EntityParser.ParseEntity(Obj(json), User, ParseMode.Full));

    [Fact]
    public void An_entity_past_its_expiresAt_is_not_visible()
    {
        var e = Entity("""{"id":"urn:a:1","type":"Vehicle","expiresAt":"2026-01-01T11:59:59Z","speed":1}""");
        Transience.Visible(e, Now).Should().BeNull();
        Transience.Visible(e, Now.AddMinutes(-5)).Should().BeSameAs(e);
    }

    [Fact]
    public void Expired_instances_are_left_out_of_a_copy_and_the_stored_entity_is_untouched()
    {
        var e = Entity("""
            {"id":"urn:a:1","type":"Vehicle","name":"x",
             "speed":[{"value":1,"expiresAt":"2026-01-01T11:00:00Z","datasetId":"urn:ds:a"},{"value":2}]}
            """);

        var visible = Transience.Visible(e, Now)!;

        visible.Attributes[User.ExpandTerm("speed")].Should().ContainSingle().Which["value"]!.GetValue<int>().Should().Be(2);
        e.Attributes[User.ExpandTerm("speed")].Should().HaveCount(2);
    }

    [Fact]
    public void Instances_not_yet_expired_leave_the_entity_itself_and_an_expired_one_in_the_last_attribute_is_found()
    {
        var e = Entity("""
            {"id":"urn:a:1","type":"Vehicle","name":"x","speed":{"value":1,"expiresAt":"2026-01-01T13:00:00Z"},
             "fuel":[{"value":5},{"value":6,"datasetId":"urn:ds:b","expiresAt":"2026-01-01T12:30:00Z"}]}
            """);

        Transience.Visible(e, Now).Should().BeSameAs(e);
        var later = Transience.Visible(e, Now.AddMinutes(45))!;
        later.Should().NotBeSameAs(e);
        later.Attributes[User.ExpandTerm("fuel")].Should().ContainSingle().Which["value"]!.GetValue<int>().Should().Be(5);
        later.Attributes.Should().ContainKey(User.ExpandTerm("speed"));
    }

    [Fact]
    public void Next_expiry_is_the_earliest_of_the_entity_and_its_instances()
    {
        var e = Entity("""{"id":"urn:a:1","type":"Vehicle","expiresAt":"2026-02-01T00:00:00Z","speed":{"value":1,"expiresAt":"2026-01-15T00:00:00Z"}}""");
        Transience.NextExpiry(e).Should().Be(new DateTimeOffset(2026, 1, 15, 0, 0, 0, TimeSpan.Zero));
        Transience.NextExpiry(Entity("""{"id":"urn:a:2","type":"Vehicle","speed":1}""")).Should().BeNull();
    }

    [Fact]
    public void Reaping_an_expired_entity_deletes_it_without_deletion_markers()
    {
        var (write, removed) = Transience.Reap(Entity("""{"id":"urn:a:1","type":"Vehicle","expiresAt":"2026-01-01T00:00:00Z","speed":1}"""), Now);

        write.Kind.Should().Be(EntityWriteKind.Delete);
        write.DeletionMarkers.Should().BeFalse();
        removed.Should().BeEmpty();
    }

    [Fact]
    public void Reaping_expired_instances_records_no_change_and_names_them_for_their_history()
    {
        var e = Entity("""{"id":"urn:a:1","type":"Vehicle","name":"x","speed":{"value":1,"expiresAt":"2026-01-01T00:00:00Z"}}""");

        var (write, removed) = Transience.Reap(e, Now);

        write.Kind.Should().Be(EntityWriteKind.Upsert);
        write.Changes.Should().BeEmpty();
        write.After!.Attributes.Should().NotContainKey(User.ExpandTerm("speed"));
        removed.Should().Equal((User.ExpandTerm("speed"), (string?)null));
    }

    [Fact]
    public void A_patch_with_NGSI_LD_Null_makes_the_entity_durable_again()
    {
        var patch = EntityParser.ParseFragment(Obj("""{"expiresAt":"urn:ngsi-ld:null"}"""), User, ParseMode.Merge, "urn:a:1");

        Transience.Apply(Now, patch.ExpiresAt).Should().BeNull();
        Transience.Apply(Now, null).Should().Be(Now);
    }
}
