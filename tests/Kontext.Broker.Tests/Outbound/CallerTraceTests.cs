using System.Net;
using Kontext.Broker.Outbound;
using Kontext.Broker.Tests.ContextSources;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Outbound;

/// <summary>
/// W3C Trace Context on the calls the broker makes for a request, with no tracing configured (no Activity per request):
/// a forwarded query carries the caller's traceparent and tracestate unchanged, as a service that records no span
/// propagates them, and nothing when the caller sent none or an invalid one. Seen from a context source stub on 127.0.0.1.
/// </summary>
public sealed class CallerTraceTests(FederationFixture fx) : IClassFixture<FederationFixture>, IAsyncLifetime
{
    private const string Parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    private const string State = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE";
    private readonly string _tenant = "trace-" + Guid.NewGuid().ToString("N")[..8];
    private ContextSourceStub _source = null!;

    public async Task InitializeAsync()
    {
        _source = await ContextSourceStub.StartAsync();
        var registration = FederatedBrokers.Registration(_source.BaseUrl, """[{"entities":[{"type":"Vehicle"}]}]""");
        var response = await fx.Client.Send(HttpMethod.Post, ContextSources.RegistrationApiTests.Registrations, registration, tenant: _tenant);
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    public async Task DisposeAsync() => await _source.DisposeAsync();

    private async Task<IReadOnlyDictionary<string, string>> ForwardedHeadersAsync(params (string Name, string Value)[] headers)
    {
        var before = _source.Requests.Count;
        var request = Api.Request(HttpMethod.Get, $"{Api.Entities}?type=Vehicle", tenant: _tenant);
        foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
        (await fx.Client.SendAsync(request)).StatusCode.Should().Be(HttpStatusCode.OK);
        _source.Requests.Should().HaveCount(before + 1);
        return _source.Requests[^1].Headers;
    }

    [Fact]
    public async Task A_forwarded_query_carries_the_callers_traceparent_and_tracestate_unchanged()
    {
        var sent = await ForwardedHeadersAsync(("traceparent", Parent), ("tracestate", State));

        sent["traceparent"].Should().Be(Parent);
        sent["tracestate"].Should().Be(State);
    }

    [Fact]
    public async Task A_traceparent_without_tracestate_is_passed_on_alone()
    {
        var sent = await ForwardedHeadersAsync(("traceparent", Parent));

        sent["traceparent"].Should().Be(Parent);
        sent.ContainsKey("tracestate").Should().BeFalse();
    }

    [Fact]
    public async Task A_request_without_traceparent_forwards_none_even_after_one_that_had_it()
    {
        await ForwardedHeadersAsync(("traceparent", Parent), ("tracestate", State));

        var sent = await ForwardedHeadersAsync();

        sent.ContainsKey("traceparent").Should().BeFalse();
        sent.ContainsKey("tracestate").Should().BeFalse();
    }

    [Theory]
    [InlineData("00-00000000000000000000000000000000-00f067aa0ba902b7-01")]
    [InlineData("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01")]
    [InlineData("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")]
    [InlineData("not a trace")]
    public async Task An_invalid_traceparent_is_not_passed_on_and_neither_is_its_tracestate(string invalid)
    {
        var sent = await ForwardedHeadersAsync(("traceparent", invalid), ("tracestate", State));

        sent.ContainsKey("traceparent").Should().BeFalse();
        sent.ContainsKey("tracestate").Should().BeFalse();
    }

    [Theory]
    [InlineData(Parent, true)]
    [InlineData("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", true)]
    [InlineData("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future", true)] // a later version may add fields
    [InlineData("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x", false)]
    [InlineData("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", false)] // version 00 has four fields
    [InlineData("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", false)]
    [InlineData("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g", false)]
    [InlineData("00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", false)]
    [InlineData("00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", false)]
    public void The_traceparent_format_is_checked_as_W3C_defines_it(string value, bool valid) =>
        CallerTrace.IsValidParent(value).Should().Be(valid);
}
