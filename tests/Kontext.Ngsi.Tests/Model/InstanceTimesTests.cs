using Kontext.Ngsi.Model;

namespace Kontext.Ngsi.Tests.Model;

/// <summary>
/// Issue 12, session 15: the instance time codes of a stored document (0 the entity's createdAt, 1 its modifiedAt, then
/// the listed times) are named in one place, <see cref="InstanceTimes"/>, which the SQLite decode and the
/// <see cref="StoredEntity"/> view both ask.
/// </summary>
public sealed class InstanceTimesTests
{
    private static readonly DateTimeOffset Created = new(2024, 2, 1, 10, 0, 0, 123, TimeSpan.Zero);
    private static readonly DateTimeOffset Modified = new DateTimeOffset(2024, 2, 1, 12, 30, 0, 456, TimeSpan.FromHours(2)).AddTicks(9999);

    [Fact]
    public void Codes_0_and_1_are_the_entity_s_times_as_the_core_stamps_attributes_then_the_listed_times_in_order()
    {
        var times = new InstanceTimes(Created, Modified, ["2020-01-01T00:00:00.000Z", "2019-05-05T05:05:05Z"]);

        times[0].Should().Be("2024-02-01T10:00:00.123Z");
        times[1].Should().Be("2024-02-01T10:30:00.456Z", "UTC, milliseconds cut");
        times[1].Should().BeSameAs(times[1], "formatted once");
        times[2].Should().Be("2020-01-01T00:00:00.000Z");
        times[3].Should().Be("2019-05-05T05:05:05Z", "a listed time is given back as it was stored");
    }

    [Fact]
    public void The_stored_view_names_the_times_as_the_helper_does()
    {
        var view = new StoredEntity("urn:ngsi-ld:T:1") { CreatedAt = Created, ModifiedAt = Modified, ListedTimes = ["2020-01-01T00:00:00.000Z"] };
        var times = new InstanceTimes(Created, Modified, view.ListedTimes);

        for (var code = 0; code < 3; code++) view.Time(code).Should().Be(times[code]);
        new StoredEntity("urn:ngsi-ld:T:2") { CreatedAt = Created, ModifiedAt = Created }.Time(1).Should().Be(Validate.Format(Created), "no list: only the entity's times");
    }
}
