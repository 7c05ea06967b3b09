using System.Net;
using System.Net.Http.Headers;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Security;

/// <summary>
/// A broker with Kontext:Auth:Mode = apikey,oidc: API keys of every shape, and a <see cref="TokenIssuer"/> on 127.0.0.1
/// as its OIDC authority (Keycloak's claim shapes). The tenant "city" exists from the start.
/// </summary>
public sealed class AuthFixture : IAsyncLifetime
{
    public const string City = "city";
    public const string Reader = "reader-key-0123456789";          // read on city and the default tenant
    public const string Writer = "writer-key-0123456789";          // read, write on every tenant
    public const string Sensor = "sensor-key-0123456789";          // write only, on city
    public const string CityAdmin = "city-admin-key-0123456789";   // admin of city only
    public const string Admin = "admin-key-0123456789";            // admin of every tenant

    public TokenIssuer Issuer { get; private set; } = null!;
    public BrokerFactory Factory { get; private set; } = null!;
    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Issuer = await TokenIssuer.StartAsync();
        var settings = new Dictionary<string, string?>
        {
            ["Kontext:Auth:Mode"] = "apikey,oidc",
            ["Kontext:Auth:Oidc:Authority"] = Issuer.Authority,
            ["Kontext:Auth:Oidc:Audience"] = "kontext",
            ["Kontext:Auth:Oidc:RolesClaim"] = "realm_access.roles",
            ["Kontext:Auth:Oidc:TenantsClaim"] = "tenants",
        };
        void Key(string name, string key, string[] tenants, string[] roles)
        {
            settings[$"Kontext:Auth:ApiKeys:{name}:Key"] = key;
            for (var i = 0; i < tenants.Length; i++) settings[$"Kontext:Auth:ApiKeys:{name}:Tenants:{i}"] = tenants[i];
            for (var i = 0; i < roles.Length; i++) settings[$"Kontext:Auth:ApiKeys:{name}:Roles:{i}"] = roles[i];
        }
        Key("reader", Reader, [City, "urn:ngsi-ld:tenant:default"], ["read"]);
        Key("writer", Writer, ["*"], ["read", "write"]);
        Key("sensor", Sensor, [City], ["write"]);
        Key("city-admin", CityAdmin, [City], ["admin"]);
        Key("admin", Admin, ["*"], ["admin"]);
        Factory = new BrokerFactory(settings: settings);
        Client = Factory.CreateClient();
        var created = await Send(HttpMethod.Post, Api.Entities, ApiKey(Admin), $$"""{"id": "{{Api.NewId()}}", "type": "Thing"}""", tenant: City);
        if (created.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException("could not create tenant city: " + await created.Content.ReadAsStringAsync());
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Factory.DisposeAsync();
        await Issuer.DisposeAsync();
        Factory.DeleteData();
    }

    public static Action<HttpRequestMessage> ApiKey(string key) => r => r.Headers.Authorization = new AuthenticationHeaderValue("ApiKey", key);
    public static Action<HttpRequestMessage> XApiKey(string key) => r => r.Headers.Add("X-Api-Key", key);
    public static Action<HttpRequestMessage> Bearer(string token) => r => r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
    public static readonly Action<HttpRequestMessage> Anonymous = _ => { };

    public Task<HttpResponseMessage> Send(HttpMethod method, string path, Action<HttpRequestMessage> credential, string? json = null, string? tenant = null)
    {
        var request = Api.Request(method, path, json, tenant: tenant);
        credential(request);
        return Client.SendAsync(request);
    }
}

[CollectionDefinition(Name)]
public sealed class AuthCollection : ICollectionFixture<AuthFixture>
{
    public const string Name = "auth";
}

/// <summary>Assertions on the access refusals.</summary>
public static class AccessAssertions
{
    public const string Unauthorized = "urn:kontext:errors:Unauthorized";
    public const string Forbidden = "urn:kontext:errors:Forbidden";
    public const string TooManyRequests = "urn:kontext:errors:TooManyRequests";

    /// <summary>A ProblemDetails answer with the status and the broker's own error type.</summary>
    public static async Task ShouldBeRefusedAsync(this HttpResponseMessage response, HttpStatusCode status, string type)
    {
        var text = await response.Content.ReadAsStringAsync();
        ((int)response.StatusCode).Should().Be((int)status, "the body was {0}", text);
        response.Content.Headers.ContentType?.MediaType.Should().Be("application/json");
        var body = System.Text.Json.Nodes.JsonNode.Parse(text)!.AsObject();
        body["type"]!.GetValue<string>().Should().Be(type);
        body["status"]!.GetValue<int>().Should().Be((int)status);
        body["title"]!.GetValue<string>().Should().NotBeNullOrWhiteSpace();
        body["detail"]!.GetValue<string>().Should().NotBeNullOrWhiteSpace();
    }

    public static async Task ShouldBeAsync(this HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        ((int)response.StatusCode).Should().Be((int)status, "the body was {0}", text);
    }
}
