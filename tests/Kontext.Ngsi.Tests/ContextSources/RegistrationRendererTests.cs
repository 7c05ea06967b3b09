using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Storage;

namespace Kontext.Ngsi.Tests.ContextSources;

public class RegistrationRendererTests
{
    [Fact]
    public void Names_are_compacted_with_the_readers_context()
    {
        var registration = RegistrationParserTests.Parse(RegistrationParserTests.Vehicles);

        var withContext = RegistrationRenderer.Render(registration, T.User);
        var coreOnly = RegistrationRenderer.Render(registration, ContextProcessor.Core);

        withContext["information"]![0]!["entities"]![0]!["type"]!.GetValue<string>().Should().Be("Vehicle");
        withContext["information"]![0]!["propertyNames"]![0]!.GetValue<string>().Should().Be("speed");
        coreOnly["information"]![0]!["entities"]![0]!["type"]!.GetValue<string>().Should().Be(T.Iri("Vehicle"));
    }

    [Fact]
    public void A_term_of_the_default_vocabulary_reads_back_as_its_short_name_with_the_core_context()
    {
        var registration = RegistrationParserTests.Parse(RegistrationParserTests.Vehicles, ContextProcessor.Core);

        RegistrationRenderer.Render(registration, ContextProcessor.Core)["information"]![0]!["entities"]![0]!["type"]!.GetValue<string>().Should().Be("Vehicle");
    }

    [Fact]
    public void Defaults_are_shown_and_the_status_only_once_something_was_forwarded()
    {
        var registration = RegistrationParserTests.Parse(RegistrationParserTests.Vehicles);

        var fresh = RegistrationRenderer.Render(registration, T.User, new RegistrationStatus());
        var used = RegistrationRenderer.Render(registration, T.User, new RegistrationStatus(3, 1, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(-1)));

        fresh["mode"]!.GetValue<string>().Should().Be("inclusive");
        fresh["operations"]![0]!.GetValue<string>().Should().Be("federationOps");
        fresh.ContainsKey("status").Should().BeFalse();
        used["status"]!.GetValue<string>().Should().Be("ok");
        used["timesSent"]!.GetValue<long>().Should().Be(3);
        used["timesFailed"]!.GetValue<long>().Should().Be(1);
    }
}
