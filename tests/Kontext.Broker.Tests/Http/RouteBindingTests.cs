using Kontext.Broker.Tests.Infrastructure;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Kontext.Broker.Tests.Http;

/// <summary>
/// The entity, batch, subscription and temporal routes take their services at mapping time: a handler parameter that the
/// framework binds from services would be resolved from the request's service scope, opening one per request (issue 12).
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class RouteBindingTests(BrokerFixture fixture)
{
    public static TheoryData<string> Areas => new()
    {
        "/ngsi-ld/v1/entities", "/ngsi-ld/v1/entityOperations/query", "/ngsi-ld/v1/entityOperations/create",
        "/ngsi-ld/v1/entityOperations/upsert", "/ngsi-ld/v1/entityOperations/update", "/ngsi-ld/v1/entityOperations/delete",
        "/ngsi-ld/v1/entityOperations/merge", "/ngsi-ld/v1/subscriptions",
        "/ngsi-ld/v1/temporal/entities", "/ngsi-ld/v1/temporal/entityOperations/query",
    };

    [Theory]
    [MemberData(nameof(Areas))]
    public void No_handler_of_the_area_binds_a_service_per_request(string area)
    {
        var services = fixture.Factory.Services;
        var isService = services.GetRequiredService<IServiceProviderIsService>();
        var handlers = services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith(area, StringComparison.Ordinal) == true)
            .Select(e => (Route: e.DisplayName, Parameters: e.Metadata.GetOrderedMetadata<IParameterBindingMetadata>()))
            .ToList();

        handlers.Should().NotBeEmpty();
        foreach (var (route, parameters) in handlers)
        {
            parameters.Where(p => isService.IsService(p.ParameterInfo.ParameterType)).Select(p => p.ParameterInfo.ParameterType.Name)
                .Should().BeEmpty($"{route} should take its services when mapped");
        }
    }
}
