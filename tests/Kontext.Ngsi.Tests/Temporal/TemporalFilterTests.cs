using System.Text.Json.Nodes;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;
using Kontext.Ngsi.Storage;
using Kontext.Ngsi.Temporal;

namespace Kontext.Ngsi.Tests.Temporal;

/// <summary>
/// The temporal query's filters on the history (clause 5.7.4.4), the Scope's evolution (4.5.6, 4.18) and the way
/// temporal representations write instants.
/// </summary>
public sealed class TemporalFilterTests
{
    private static readonly DateTimeOffset Noon = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TemporalQuery Window = new(TimeRelation.Between, Noon, Noon.AddHours(1));
    private static readonly Entity Head = new("urn:ngsi-ld:Vehicle:1") { Types = ["https://x/Vehicle"] };
    private static int _n;

    private static TemporalInstance Instance(string attribute, JsonObject? doc, DateTimeOffset at, AttributeChangeKind kind = AttributeChangeKind.Updated) =>
        new(new AttributeInstanceRecord(Head.Id, attribute, null, "urn:i:" + ++_n, kind, at, at, doc?.ToJsonString()), at);

    private static TemporalInstance Speed(double value, DateTimeOffset at) =>
        Instance(Iri("speed"), new JsonObject { ["type"] = "Property", ["value"] = value }, at);

    private static TemporalInstance Scope(string? scope, DateTimeOffset at) => scope is null
        ? Instance(ScopeHistory.Attribute, new JsonObject { ["type"] = "Property" }, at, AttributeChangeKind.Deleted)
        : Instance(ScopeHistory.Attribute, new JsonObject { ["type"] = "Property", ["value"] = scope }, at);

    private static readonly JsonLdContext Core = ContextProcessor.Core;

    private static string Iri(string name) => Core.ExpandTerm(name);

    private static EntityQuery Q(string q) => new(Q: QLanguage.Parse(q, Core));

    [Fact]
    public void Q_holds_when_an_instance_of_the_window_satisfies_it()
    {
        TemporalFilter.MatchesValues(Q("speed>25"), Head, [Speed(10, Noon), Speed(30, Noon.AddMinutes(5))]).Should().BeTrue();
        TemporalFilter.MatchesValues(Q("speed>25"), Head, [Speed(10, Noon)]).Should().BeFalse();
        TemporalFilter.MatchesValues(Q("!heading;speed>5"), Head, [Speed(10, Noon)]).Should().BeTrue("an attribute without instances in the window does not exist");
    }

    [Fact]
    public void A_deletion_is_no_value()
    {
        var deleted = Instance(Iri("speed"), new JsonObject { ["type"] = "Property" }, Noon, AttributeChangeKind.Deleted);
        TemporalFilter.MatchesValues(Q("speed"), Head, [deleted]).Should().BeFalse();
    }

    [Fact]
    public void The_attributes_a_filter_reads_are_those_q_names()
    {
        TemporalFilter.ValueAttributes(Q("speed>1|(heading<2;!brand)")).Should().BeEquivalentTo(Iri("speed"), Iri("heading"), Iri("brand"));
    }

    [Fact]
    public void A_scope_is_valid_from_when_it_is_set_until_it_is_replaced_or_removed()
    {
        var scopeQ = SelectorExpressions.ParseScope("/R");
        var spans = TemporalFilter.ScopeSpans(scopeQ, [Scope("/R", Noon.AddHours(-2)), Scope("/S", Noon.AddMinutes(30))], null, Window);
        spans.Should().Equal(new TemporalSpan(Noon, Noon.AddMinutes(30)));

        var removed = TemporalFilter.ScopeSpans(scopeQ, [Scope("/R", Noon.AddMinutes(10)), Scope(null, Noon.AddMinutes(20))], null, Window);
        removed.Should().Equal(new TemporalSpan(Noon.AddMinutes(10), Noon.AddMinutes(20)));

        TemporalFilter.ScopeSpans(scopeQ, [Scope("/R", Noon.AddHours(2))], null, Window).Should().BeEmpty("set only after the window");
        TemporalFilter.ScopeSpans(scopeQ, [], ["/R"], Window).Should().Equal(new TemporalSpan(Noon, Noon.AddHours(1)));
    }

    [Fact]
    public void A_Core_API_scope_change_becomes_an_instance_with_observedAt_the_modification_time()
    {
        var change = ScopeHistory.Change(["/Old"], ["/New"], Noon)!;
        change.Attribute.Should().Be(ScopeHistory.Attribute);
        change.Kind.Should().Be(AttributeChangeKind.Updated);
        change.Instance!.ToJsonString().Should().Be("""{"type":"Property","value":"/New","observedAt":"2026-03-01T12:00:00.000Z"}""");
        ScopeHistory.Change(["/A"], ["/A"], Noon).Should().BeNull();
        ScopeHistory.Change(["/A"], null, Noon)!.Kind.Should().Be(AttributeChangeKind.Deleted);
    }

    [Fact]
    public void A_write_that_records_its_own_scope_instances_gets_no_second_one()
    {
        var after = new Entity("urn:e") { Scopes = ["/B"], ModifiedAt = Noon };
        var own = new AttributeChange(ScopeHistory.Attribute, null, AttributeChangeKind.Created, new JsonObject());
        ScopeHistory.Complete(["/A"], after, [own]).Should().Equal(own);
        ScopeHistory.Complete(["/A"], after, []).Should().ContainSingle(c => c.Attribute == ScopeHistory.Attribute);
    }

    [Theory]
    [InlineData("2020-08-01T12:03:00Z", "2020-08-01T12:03:00Z")]
    [InlineData("2020-08-01T12:03:00.000Z", "2020-08-01T12:03:00Z")]
    [InlineData("2020-08-01T12:03:00.250Z", "2020-08-01T12:03:00.250Z")]
    public void Temporal_instants_are_written_in_whole_seconds_unless_they_have_a_fraction(string input, string written)
    {
        Validate.TryParseDateTime(input, out var t).Should().BeTrue();
        TemporalTime.Format(t).Should().Be(written);
    }
}
