using System.Text.Json.Nodes;
using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.JsonLd;

namespace Kontext.Ngsi.Tests.ContextSources;

public class RegistrationParserTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    internal static Registration Parse(string json, JsonLdContext? context = null) => RegistrationParser.Parse(T.Obj(json), context ?? T.User, Now);

    internal const string Vehicles = """
        {"id": "urn:ngsi-ld:ContextSourceRegistration:v", "type": "ContextSourceRegistration", "endpoint": "http://fleet.example:1026",
         "information": [{"entities": [{"type": "Vehicle", "id": "urn:ngsi-ld:Vehicle:A"}], "propertyNames": ["speed"], "relationshipNames": ["owner"]}]}
        """;

    private static void Bad(string json) => ((Action)(() => Parse(json))).ShouldBeBadRequestData();

    private static string With(string member, string value) =>
        $$"""{"type": "ContextSourceRegistration", "endpoint": "http://a.example", "information": [{"entities": [{"type": "Vehicle"}]}], "{{member}}": {{value}}}""";

    [Fact]
    public void Entity_types_and_attribute_names_are_expanded_with_the_request_context()
    {
        var registration = Parse(Vehicles);

        var info = registration.Information.Single();
        info.Entities!.Single().Types.Should().Equal(T.Iri("Vehicle"));
        info.PropertyNames.Should().BeEquivalentTo([T.Iri("speed")]);
        info.RelationshipNames.Should().BeEquivalentTo([T.Iri("owner")]);
        registration.Document["information"]![0]!["entities"]![0]!["type"]!.GetValue<string>().Should().Be(T.Iri("Vehicle"));
    }

    [Fact]
    public void Mode_defaults_to_inclusive_and_operations_to_federationOps()
    {
        var registration = Parse(Vehicles);

        registration.Mode.Should().Be(RegistrationMode.Inclusive);
        registration.Operations.Should().Equal("federationOps");
        registration.Supports("queryEntity").Should().BeTrue();
        registration.Supports("createEntity").Should().BeFalse();
    }

    [Fact]
    public void A_registration_without_id_gets_one() =>
        Parse("""{"type": "ContextSourceRegistration", "endpoint": "http://a.example", "information": [{"propertyNames": ["speed"]}]}""")
            .Id.Should().StartWith("urn:ngsi-ld:ContextSourceRegistration:");

    [Fact]
    public void Context_source_properties_are_kept_under_their_expanded_names()
    {
        var registration = Parse(With("name", "\"north fleet\""));

        registration.Document[T.Iri("name")]!.GetValue<string>().Should().Be("north fleet");
    }

    [Theory]
    [InlineData("""{"type": "ContextSourceRegistration", "endpoint": "http://a.example"}""")]
    [InlineData("""{"type": "ContextSourceRegistration", "endpoint": "http://a.example", "information": null}""")]
    [InlineData("""{"type": "ContextSourceRegistration", "endpoint": "http://a.example", "information": []}""")]
    [InlineData("""{"type": "ContextSourceRegistration", "endpoint": "http://a.example", "information": [{}]}""")]
    [InlineData("""{"type": "ContextSourceRegistration", "endpoint": "http://a.example", "information": [{"entities": [{"id": "urn:x:1"}]}]}""")]
    [InlineData("""{"type": "ContextSourceRegistration", "information": [{"propertyNames": ["speed"]}]}""")]
    [InlineData("""{"type": "ContextSourceRegistration", "endpoint": "not a uri", "information": [{"propertyNames": ["speed"]}]}""")]
    [InlineData("""{"type": "Registration", "endpoint": "http://a.example", "information": [{"propertyNames": ["speed"]}]}""")]
    [InlineData("""{"id": "no-uri", "type": "ContextSourceRegistration", "endpoint": "http://a.example", "information": [{"propertyNames": ["speed"]}]}""")]
    public void A_registration_without_its_mandatory_members_is_BadRequestData(string json) => Bad(json);

    [Theory]
    [InlineData("expiresAt", "\"2020-01-01T00:00:00Z\"")]
    [InlineData("expiresAt", "\" 2030-01-01T00:00:00Z\"")]
    [InlineData("mode", "\"sometimes\"")]
    [InlineData("operations", "[\"flyEntity\"]")]
    [InlineData("operations", "[]")]
    [InlineData("observationInterval", "{\"endAt\": \"2020-01-01T00:00:00Z\"}")]
    [InlineData("managementInterval", "{\"startAt\": \"2021-01-01T00:00:00Z\", \"endAt\": \"2020-01-01T00:00:00Z\"}")]
    [InlineData("location", "{\"type\": \"Point\", \"coordinates\": [200]}")]
    [InlineData("scope", "\"Madrid\"")]
    [InlineData("tenant", "\"bad tenant\"")]
    [InlineData("refreshRate", "\"every minute\"")]
    [InlineData("contextSourceInfo", "[{\"key\": \"X-Custom\", \"value\": 123}]")]
    [InlineData("contextSourceInfo", "[{\"key\": \"X-Custom\", \"value\": [\"a\"]}]")]
    [InlineData("contextSourceInfo", "[{\"key\": \"X-Custom\"}]")]
    [InlineData("contextSourceInfo", "[{\"key\": 5, \"value\": \"v\"}]")]
    [InlineData("management", "\"yes\"")]
    [InlineData("management", "{\"cacheDuration\": \"bogus\"}")]
    [InlineData("management", "{\"cooldown\": 0}")]
    [InlineData("management", "{\"timeout\": -5}")]
    [InlineData("management", "{\"localOnly\": \"yes\"}")]
    public void An_invalid_member_is_BadRequestData(string member, string value) => Bad(With(member, value));

    [Fact]
    public void A_conformant_management_member_is_read()
    {
        var registration = Parse(With("management", """{"cacheDuration": "PT5M", "cooldown": 500, "timeout": 3000, "localOnly": true}"""));

        registration.Management.Should().Be(registration.Management with { LocalOnly = true, TimeoutMs = 3000, CooldownMs = 500 });
        registration.Management.CacheDuration!.Time.Should().Be(TimeSpan.FromMinutes(5));
    }

    [Fact]
    public void String_key_value_pairs_are_accepted_as_contextSourceInfo() =>
        Parse(With("contextSourceInfo", """[{"key": "X-Auth-Token", "value": "abc"}]""")).ContextSourceInfo
            .Should().ContainSingle().Which.Should().Be(new KeyValuePair<string, string>("X-Auth-Token", "abc"));

    [Theory]
    [InlineData("""[{"entities": [{"type": "Vehicle", "id": "urn:ngsi-ld:Vehicle:A"}]}]""")] // no attributes
    [InlineData("""[{"entities": [{"type": "Vehicle"}], "propertyNames": ["speed"]}]""")] // a type-only group
    [InlineData("""[{"entities": [{"type": "Vehicle", "idPattern": ".*"}], "propertyNames": ["speed"]}]""")]
    [InlineData("""[{"propertyNames": ["speed"]}]""")]
    public void An_exclusive_registration_names_single_entities_and_their_attributes(string information) =>
        Bad($$"""{"type": "ContextSourceRegistration", "endpoint": "http://a.example", "mode": "exclusive", "information": {{information}}}""");

    [Fact]
    public void An_auxiliary_registration_offers_retrieval_only()
    {
        Bad("""{"type": "ContextSourceRegistration", "endpoint": "http://a.example", "mode": "auxiliary", "operations": ["updateEntity"], "information": [{"propertyNames": ["speed"]}]}""");
        Parse("""{"type": "ContextSourceRegistration", "endpoint": "http://a.example", "mode": "auxiliary", "information": [{"propertyNames": ["speed"]}]}""")
            .Operations.Should().Equal("retrieveOps");
    }

    [Fact]
    public void An_update_replaces_members_and_null_removes_one()
    {
        var stored = Parse(With("expiresAt", "\"2030-01-01T00:00:00Z\"")).Document;
        var fragment = RegistrationParser.Expand(T.Obj("""{"endpoint": "http://b.example", "expiresAt": null}"""), T.User);

        var updated = RegistrationParser.Read(RegistrationParser.Merge(stored, fragment), Now, checkExpiry: false);

        updated.Endpoint.Should().Be(new Uri("http://b.example"));
        updated.ExpiresAt.Should().BeNull();
    }

    [Theory]
    [InlineData("""{"information": null}""")]
    [InlineData("""{"endpoint": "urn:ngsi-ld:null"}""")]
    [InlineData("""{"type": "building"}""")]
    public void An_update_that_removes_a_mandatory_member_or_changes_the_type_is_BadRequestData(string json)
    {
        var stored = Parse(Vehicles).Document;
        var fragment = RegistrationParser.Expand(T.Obj(json), T.User);

        ((Action)(() => RegistrationParser.Read(RegistrationParser.Merge(stored, fragment), Now, checkExpiry: false))).ShouldBeBadRequestData();
    }

    [Fact]
    public void The_id_of_a_registration_cannot_change() =>
        ((Action)(() => RegistrationParser.Merge(Parse(Vehicles).Document, T.Obj("""{"id": "urn:ngsi-ld:ContextSourceRegistration:other"}"""))))
            .ShouldBeBadRequestData();

    [Fact]
    public void A_stored_document_reads_back_to_the_same_registration()
    {
        var registration = Parse(Vehicles);
        var again = RegistrationParser.Read((JsonObject)JsonNode.Parse(registration.Document.ToJsonString())!, Now, checkExpiry: false);

        again.Information.Single().PropertyNames.Should().BeEquivalentTo(registration.Information.Single().PropertyNames!);
        again.Endpoint.Should().Be(registration.Endpoint);
    }

    [Fact]
    public void Errors_name_the_registration() =>
        ((Action)(() => Parse("""{"type": "ContextSourceRegistration"}"""))).Should().Throw<NgsiException>()
            .Which.Error.Detail.Should().StartWith("Invalid context source registration");
}
