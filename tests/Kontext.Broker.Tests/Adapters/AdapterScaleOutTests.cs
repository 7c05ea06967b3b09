using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;
using Kontext.Storage.Tests;
using Kontext.Storage.Tests.Mongo;

namespace Kontext.Broker.Tests.Adapters;

/// <summary>
/// Two broker instances over one MongoDB database (KONTEXT_TEST_MONGO): the adapters' state is the database's, not the
/// instance's. A duplicate uplink sent to both is stored once; a dead letter taken at one is listed and replayed at the other.
/// </summary>
[RequiresEnvironment(MongoStorageContractTests.Variable, "KONTEXT_TEST_MONGO is not set: no MongoDB server on this machine")]
public sealed class AdapterScaleOutTests
{
    private const string Tenant = "scale";

    private static BrokerFactory Instance(MongoTestDatabase database, string mappings) => new(settings: new Dictionary<string, string?>
    {
        ["Kontext:Storage:Provider"] = "mongo",
        ["Kontext:Storage:Mongo:ConnectionString"] = database.ConnectionString,
        ["Kontext:Adapters:MappingDirectory"] = mappings,
        ["Kontext:Adapters:SchemaDirectory"] = Path.Combine(RepoPaths.Root, "schemas"),
        ["Kontext:Adapters:AdminApiKey"] = AdapterFixture.AdminKey,
        ["Kontext:Adapters:Sources:ttn:Kind"] = "tts",
        ["Kontext:Adapters:Sources:ttn:Secret"] = AdapterFixture.TtsSecret,
        ["Kontext:Adapters:Sources:ttn:Header"] = "Authorization",
        ["Kontext:Adapters:Sources:ttn:Tenant"] = Tenant,
    });

    [ContractFact]
    public async Task A_duplicate_uplink_sent_to_two_instances_is_stored_once_and_a_dead_letter_taken_at_one_is_replayed_at_the_other()
    {
        var database = new MongoTestDatabase();
        var mappings = Path.Combine(Path.GetTempPath(), "kontext-tests", "scale-mappings-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(mappings);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "mappings"))) File.Copy(file, Path.Combine(mappings, Path.GetFileName(file)));
        try
        {
            await using var a = Instance(database, mappings);
            await using var b = Instance(database, mappings);
            var clientA = a.CreateClient();
            var clientB = b.CreateClient();
            clientA.DefaultRequestHeaders.Add("X-Admin-Key", AdapterFixture.AdminKey);
            clientB.DefaultRequestHeaders.Add("X-Admin-Key", AdapterFixture.AdminKey);

            var envelope = JsonNode.Parse(File.ReadAllText(Path.Combine(VendorPayloads.Dir, "tts-v3", "COMPOSED.uplink-message.decentlab-dl-mbx.json")))!;
            (await (await clientA.PostTts("ttn", envelope)).OkJson())["status"]!.GetValue<string>().Should().Be("stored");
            (await (await clientB.PostTts("ttn", envelope)).OkJson())["status"]!.GetValue<string>().Should().Be("duplicate");

            var (fPort, bytes, data) = VendorPayloads.CodecExample("elsys/ers-co2-codec.yaml");
            var eui = VendorPayloads.NewEui();
            var unmapped = VendorPayloads.Tts(eui, "elsys/ers-co2", 5, fPort, bytes, data);
            var id = (await (await clientA.PostTts("ttn", unmapped)).OkJson(HttpStatusCode.Accepted))["deadLetter"]!.GetValue<string>();

            var listed = JsonNode.Parse(await (await clientB.Send(HttpMethod.Get, "/adapters/deadletters", tenant: Tenant)).Content.ReadAsStringAsync())!.AsArray();
            listed.Select(l => l!["id"]!.GetValue<string>()).Should().Contain(id);
            await File.WriteAllTextAsync(Path.Combine(mappings, "elsys-ers-co2.yaml"), """
                match:
                  models: [elsys/ers-co2]
                entities:
                  - type: AirQualityObserved
                    id: "urn:ngsi-ld:AirQualityObserved:{devEui}"
                    attributes:
                      co2: { value: "co2", unitCode: "59" }
                """);
            (await clientB.Send(HttpMethod.Post, "/adapters/mappings/reload")).StatusCode.Should().Be(HttpStatusCode.OK);
            var replayed = await (await clientB.Send(HttpMethod.Post, $"/adapters/deadletters/{id}/replay", tenant: Tenant)).OkJson();
            replayed["status"]!.GetValue<string>().Should().Be("stored");

            var atA = await (await clientA.Send(HttpMethod.Get, $"/adapters/deadletters/{id}", tenant: Tenant)).OkJson();
            atA["status"]!.GetValue<string>().Should().Be("replayed");
        }
        finally
        {
            await database.DropAsync();
            try { Directory.Delete(mappings, true); } catch (IOException) { }
        }
    }
}
