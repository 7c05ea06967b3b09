using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.Query;

namespace Kontext.Ngsi.Tests.ContextSources;

/// <summary>Which registrations a Query Entities or Retrieve Entity request is forwarded to (clause 4.3.6).</summary>
public class DistributedOperationPlannerTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    private static Registration Registration(string id, string mode, string information, string extra = "") => RegistrationParserTests.Parse($$"""
        {"id": "urn:ngsi-ld:ContextSourceRegistration:{{id}}", "type": "ContextSourceRegistration", "endpoint": "http://{{id}}.example",
         "mode": "{{mode}}", "information": {{information}} {{extra}}}
        """);

    private static readonly Registration Inclusive = Registration("inclusive", "inclusive", """[{"entities": [{"type": "Vehicle"}]}]""");
    private static readonly Registration Exclusive = Registration("exclusive", "exclusive",
        """[{"entities": [{"type": "Vehicle", "id": "urn:ngsi-ld:Vehicle:A"}], "propertyNames": ["speed"]}]""");
    private static readonly Registration Auxiliary = Registration("auxiliary", "auxiliary", """[{"entities": [{"type": "Vehicle"}]}]""");
    private static readonly Registration Updates = Registration("updates", "redirect", """[{"entities": [{"type": "Vehicle"}]}]""", """, "operations": ["updateOps"]""");
    private static readonly Registration People = Registration("people", "inclusive", """[{"entities": [{"type": "Person"}]}]""");

    private static ForwardingPlan Plan(string operation, EntitySpec entities, IReadOnlySet<string>? attrs = null, IReadOnlySet<string>? via = null) =>
        DistributedOperationPlanner.Plan(new ForwardingRequest(operation, entities, attrs),
            [Inclusive, Exclusive, Auxiliary, Updates, People], via ?? new HashSet<string>(), Now);

    private static EntitySpec Vehicles => new(new TypeIs(T.Iri("Vehicle")));

    [Fact]
    public void A_query_goes_to_the_matching_sources_that_offer_it_exclusive_first_auxiliary_last()
    {
        var plan = Plan("queryEntity", Vehicles);

        plan.Targets.Select(t => t.Registration.Id.Split(':')[^1]).Should().Equal("exclusive", "inclusive", "auxiliary");
        plan.Auxiliary.Should().ContainSingle();
    }

    [Fact]
    public void A_retrieval_of_another_entity_skips_the_exclusive_registration_of_one_entity() =>
        Plan("retrieveEntity", new EntitySpec(new TypeIs(T.Iri("Vehicle")), ["urn:ngsi-ld:Vehicle:B"]))
            .Targets.Select(t => t.Registration.Id).Should().NotContain(Exclusive.Id);

    [Fact]
    public void Attributes_held_by_an_exclusive_registration_are_asked_there_and_omitted_locally()
    {
        var plan = Plan("retrieveEntity", new EntitySpec(Ids: ["urn:ngsi-ld:Vehicle:A"]), new HashSet<string> { T.Iri("speed"), T.Iri("name") });

        plan.Targets.Single(t => t.Mode == RegistrationMode.Exclusive).Attributes.Should().BeEquivalentTo([T.Iri("speed")]);
        plan.LocalOmitted.Should().BeEquivalentTo([T.Iri("speed")]);
        plan.Targets.Single(t => t.Registration == Inclusive).Attributes.Should().BeEquivalentTo([T.Iri("speed"), T.Iri("name")]);
    }

    [Fact]
    public void A_source_the_request_already_passed_is_not_asked_again()
    {
        var aliased = Registration("peer", "inclusive", """[{"entities": [{"type": "Vehicle"}]}]""", """, "contextSourceAlias": "urn:ngsi-ld:ContextSource:peer" """);

        DistributedOperationPlanner.Plan(new ForwardingRequest("queryEntity", Vehicles, null), [aliased],
            new HashSet<string> { "urn:ngsi-ld:ContextSource:peer" }, Now).Targets.Should().BeEmpty();
    }

    [Fact]
    public void An_expired_registration_is_not_a_target()
    {
        var expiring = Registration("expiring", "inclusive", """[{"entities": [{"type": "Vehicle"}]}]""", $$""", "expiresAt": "{{Now.AddMinutes(1).UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}}" """);

        DistributedOperationPlanner.Plan(new ForwardingRequest("queryEntity", Vehicles, null), [expiring], new HashSet<string>(), Now.AddMinutes(2))
            .Targets.Should().BeEmpty();
    }

    [Fact]
    public void An_operation_is_offered_through_its_group() =>
        Plan("updateEntity", Vehicles).Targets.Select(t => t.Registration.Id).Should().Equal(Updates.Id);

    private static readonly Registration WritableExclusive = Registration("w-exclusive", "exclusive",
        """[{"entities": [{"type": "Vehicle", "id": "urn:ngsi-ld:Vehicle:A"}], "propertyNames": ["speed"]}]""", """, "operations": ["redirectionOps"]""");
    private static readonly Registration WritableRedirect = Registration("w-redirect", "redirect", """[{"entities": [{"type": "Vehicle"}]}]""", """, "operations": ["redirectionOps"]""");
    private static readonly Registration ReadOnlyAuxiliary = Registration("aux", "auxiliary", """[{"entities": [{"type": "Vehicle"}]}]""");

    private static ForwardingPlan ProvisionPlan(ForwardingRequest request, params Registration[] registrations) =>
        DistributedOperationPlanner.PlanProvision(request, registrations, new HashSet<string>(), Now);

    [Fact]
    public void A_write_leaves_out_locally_the_attributes_an_exclusive_registration_holds()
    {
        var request = new ForwardingRequest("appendAttrs", new EntitySpec(Ids: ["urn:ngsi-ld:Vehicle:A"]), new HashSet<string> { T.Iri("speed"), T.Iri("name") });

        var plan = ProvisionPlan(request, WritableExclusive, ReadOnlyAuxiliary);

        plan.Targets.Should().ContainSingle().Which.Attributes.Should().BeEquivalentTo([T.Iri("speed")]);
        plan.LocalOmitted.Should().BeEquivalentTo([T.Iri("speed")]);
        DistributedOperationPlanner.IsRedirectedWhole(plan, request).Should().BeFalse();
    }

    [Fact]
    public void A_redirect_registration_for_every_attribute_takes_the_whole_write()
    {
        var request = new ForwardingRequest("updateAttrs", new EntitySpec(Vehicles.Type, ["urn:ngsi-ld:Vehicle:B"]), new HashSet<string> { T.Iri("speed") });

        var plan = ProvisionPlan(request, WritableRedirect, WritableExclusive);

        plan.Targets.Select(t => t.Registration.Id).Should().Equal(WritableRedirect.Id);
        DistributedOperationPlanner.IsRedirectedWhole(plan, request).Should().BeTrue();
    }

    [Fact]
    public void A_registration_that_does_not_offer_the_write_is_not_a_target() =>
        ProvisionPlan(new ForwardingRequest("createEntity", Vehicles, new HashSet<string>()), Inclusive, Auxiliary).Targets.Should().BeEmpty();

    [Fact]
    public void A_geo_query_goes_only_to_sources_whose_location_can_hold_a_match()
    {
        var berlin = Registration("berlin", "inclusive", """[{"entities": [{"type": "Vehicle"}]}]""",
            """, "location": {"type": "Polygon", "coordinates": [[[13.0, 52.2], [13.8, 52.2], [13.8, 52.8], [13.0, 52.8], [13.0, 52.2]]]}""");
        ForwardingPlan Near(string point) => DistributedOperationPlanner.Plan(
            new ForwardingRequest("queryEntity", Vehicles, null) { Geo = GeoQuery.Parse("near;maxDistance==5000", "Point", point, null, Kontext.Ngsi.JsonLd.ContextProcessor.Core) },
            [berlin, Inclusive], new HashSet<string>(), Now);

        Near("[2.35,48.85]").Targets.Select(t => t.Registration).Should().Equal(Inclusive);
        Near("[13.4,52.52]").Targets.Select(t => t.Registration).Should().Equal(berlin, Inclusive);
    }

    [Fact]
    public void A_query_for_datasetIds_skips_a_source_registered_for_other_datasetIds_only()
    {
        var datasetB = Registration("dataset-b", "inclusive", """[{"entities": [{"type": "Vehicle"}]}]""", """, "datasetId": ["urn:ngsi-ld:Dataset:b"]""");
        ForwardingPlan Asking(params string[] datasetIds) => DistributedOperationPlanner.Plan(
            new ForwardingRequest("queryEntity", Vehicles, null) { DatasetIds = datasetIds }, [datasetB, Inclusive], new HashSet<string>(), Now);

        Asking("urn:ngsi-ld:Dataset:a").Targets.Select(t => t.Registration).Should().Equal(Inclusive);
        Asking("urn:ngsi-ld:Dataset:a", "urn:ngsi-ld:Dataset:b").Targets.Select(t => t.Registration).Should().Equal(datasetB, Inclusive);
        Asking().Targets.Select(t => t.Registration).Should().Equal(datasetB, Inclusive);
    }
}
