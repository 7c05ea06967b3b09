using Kontext.Ngsi.ContextSources;

namespace Kontext.Ngsi.Tests.ContextSources;

/// <summary>Clause 4.3.6.3: no exclusive or redirect registration over what an exclusive one covers; redirects may overlap.</summary>
public class RegistrationConflictsTests
{
    private static Registration Registration(string mode, string id, string attribute = "speed") => RegistrationParserTests.Parse($$"""
        {"type": "ContextSourceRegistration", "endpoint": "http://a.example", "mode": "{{mode}}",
         "information": [{"entities": [{"type": "Vehicle", "id": "{{id}}"}], "propertyNames": ["{{attribute}}"]}]}
        """);

    private const string A = "urn:ngsi-ld:Vehicle:A";

    [Theory]
    [InlineData("exclusive", A, "speed", true)]
    [InlineData("redirect", A, "speed", true)]
    [InlineData("redirect", A, "name", false)]
    [InlineData("exclusive", "urn:ngsi-ld:Vehicle:B", "speed", false)]
    [InlineData("inclusive", A, "speed", false)]
    public void A_proxied_registration_over_an_exclusive_one_conflicts(string mode, string id, string attribute, bool conflicts) =>
        (RegistrationConflicts.FindOverlap(Registration(mode, id, attribute), [Registration("exclusive", A)], DateTimeOffset.UtcNow) is not null)
            .Should().Be(conflicts);

    [Fact]
    public void Redirect_registrations_may_overlap_each_other() =>
        RegistrationConflicts.FindOverlap(Registration("redirect", A), [Registration("redirect", A)], DateTimeOffset.UtcNow).Should().BeNull();
}
