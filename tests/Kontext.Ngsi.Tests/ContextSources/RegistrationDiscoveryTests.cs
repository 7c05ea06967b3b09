using Kontext.Ngsi.ContextSources;

namespace Kontext.Ngsi.Tests.ContextSources;

/// <summary>Query Context Source Registrations (clause 5.10.2): which registrations a query selects.</summary>
public class RegistrationDiscoveryTests
{
    private static readonly Registration Detailed = RegistrationParserTests.Parse("""
        {"id": "urn:ngsi-ld:ContextSourceRegistration:d", "type": "ContextSourceRegistration", "endpoint": "http://a.example",
         "information": [
           {"entities": [{"type": "Vehicle", "id": "urn:ngsi-ld:Vehicle:A456"}], "propertyNames": ["speed"], "relationshipNames": ["owner"]},
           {"entities": [{"type": "Person", "idPattern": ".*downtown$"}], "propertyNames": ["name"]}],
         "location": {"type": "Point", "coordinates": [8.68, 49.41]}, "scope": "/Madrid/Centro", "brand": "Mercedes",
         "observationInterval": {"startAt": "2020-08-01T22:07:00Z", "endAt": "2021-08-01T21:07:00Z"}}
        """.Replace("\"brand\"", "\"category\""));

    private static readonly Registration AttributesOnly = RegistrationParserTests.Parse("""
        {"type": "ContextSourceRegistration", "endpoint": "http://b.example", "information": [{"propertyNames": ["name"]}]}
        """);

    private static bool Selects(Registration registration, RegistrationQueryParameters parameters) =>
        RegistrationDiscovery.Parse(parameters, T.User).Matches(registration);

    [Theory]
    [InlineData("Vehicle", true)]
    [InlineData("Person", true)]
    [InlineData("Truck", false)]
    [InlineData("Truck,Vehicle", true)]
    public void The_type_selector_matches_the_entity_infos(string type, bool selected) => Selects(Detailed, new(Type: type)).Should().Be(selected);

    [Theory]
    [InlineData("Vehicle", "speed", true)]
    [InlineData("Vehicle", "owner", true)]
    [InlineData("Vehicle", "name", false)] // name is registered for Person only: both must hold in one RegistrationInfo
    [InlineData("Person", "name", true)]
    public void Entities_and_attributes_must_match_in_the_same_registration_info(string type, string attrs, bool selected) =>
        Selects(Detailed, new(Type: type, Attrs: attrs)).Should().Be(selected);

    [Theory]
    [InlineData("urn:ngsi-ld:Vehicle:A456", null, true)]
    [InlineData("urn:ngsi-ld:Vehicle:B", null, false)]
    [InlineData("urn:ngsi-ld:Person:downtown", null, true)] // an id fitting the registered idPattern
    [InlineData(null, "^urn:ngsi-ld:Vehicle:A", true)] // a pattern fitting the registered id
    [InlineData(null, ".*downtown$", true)] // two patterns are taken to overlap
    public void Ids_and_id_patterns_meet_registered_ids_and_patterns(string? id, string? idPattern, bool selected) =>
        Selects(Detailed, new(Id: id, IdPattern: idPattern)).Should().Be(selected);

    [Fact]
    public void A_registration_info_without_entities_covers_every_entity()
    {
        Selects(AttributesOnly, new(Type: "Truck", IdPattern: ".*")).Should().BeTrue();
        Selects(AttributesOnly, new(Type: "Truck", Attrs: "speed")).Should().BeFalse();
    }

    [Fact]
    public void Csf_and_q_are_evaluated_on_the_registration_members()
    {
        Selects(Detailed, new(Csf: "endpoint==\"http://a.example\"")).Should().BeTrue();
        Selects(Detailed, new(Csf: "endpoint==\"http://b.example\"")).Should().BeFalse();
        Selects(Detailed, new(Q: "category==\"Mercedes\"")).Should().BeTrue();
        Selects(Detailed, new(Csf: "mode==\"inclusive\"")).Should().BeTrue();
    }

    [Fact]
    public void A_geo_query_is_matched_against_the_registration_location()
    {
        Selects(Detailed, new(Type: "Vehicle", GeoRel: "near;maxDistance==2000", Geometry: "Point", Coordinates: "[8.68,49.41]")).Should().BeTrue();
        Selects(Detailed, new(Type: "Vehicle", GeoRel: "near;maxDistance==2000", Geometry: "Point", Coordinates: "[2.0,41.0]")).Should().BeFalse();
        Selects(AttributesOnly, new(Type: "Vehicle", GeoRel: "near;maxDistance==2000", Geometry: "Point", Coordinates: "[8.68,49.41]")).Should().BeFalse();
    }

    [Fact]
    public void A_scope_query_is_matched_against_the_registration_scope()
    {
        Selects(Detailed, new(ScopeQ: "/Madrid/#")).Should().BeTrue();
        Selects(Detailed, new(ScopeQ: "/Berlin")).Should().BeFalse();
    }

    [Theory]
    [InlineData("before", "2021-08-01T22:00:00Z", null, null, true)]
    [InlineData("before", "2020-01-01T00:00:00Z", null, null, false)]
    [InlineData("after", "2021-09-01T00:00:00Z", null, null, false)]
    [InlineData("between", "2021-01-01T00:00:00Z", "2022-01-01T00:00:00Z", "observedAt", true)]
    [InlineData("before", "2021-08-01T22:00:00Z", null, "createdAt", false)] // createdAt looks at the managementInterval, which it has not
    public void A_temporal_query_is_matched_against_the_interval_of_its_time_property(string timerel, string timeAt, string? endTimeAt, string? timeproperty, bool selected) =>
        Selects(Detailed, new(Type: "Vehicle", TimeRel: timerel, TimeAt: timeAt, EndTimeAt: endTimeAt, TimeProperty: timeproperty)).Should().Be(selected);

    [Theory]
    [InlineData(null, null, null)]
    [InlineData("invalidUri", null, null)]
    [InlineData(null, "(invalidQuery", null)]
    [InlineData(null, null, "before")]
    public void A_query_that_selects_nothing_or_is_malformed_is_BadRequestData(string? id, string? q, string? timerel) =>
        ((Action)(() => RegistrationDiscovery.Parse(new(Id: id, Q: q, TimeRel: timerel), T.User))).ShouldBeBadRequestData();
}
