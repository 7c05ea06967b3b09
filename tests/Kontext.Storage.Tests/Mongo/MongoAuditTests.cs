using Kontext.Storage.Tests.Mongo.Recording;
using MongoDB.Bson;

namespace Kontext.Storage.Tests.Mongo;

/// <summary>
/// The audit of docs/mongodb.md held to the store's actual behaviour: the whole storage port runs once over the recording
/// fake (<see cref="StoreScenario"/>); every command and operator the server received must be in the audit
/// (<see cref="MongoAudit"/>), every audited one must still be sent, every command must keep to MongoDB's documented limits,
/// and the document must list them all.
/// </summary>
public sealed class MongoAuditTests
{
    private static readonly Lazy<Task<FakeMongoServer>> Scenario = new(StoreScenario.RunAsync);

    private static MongoAudit.Command Key(ServerCall call) =>
        new(call.Command, call.Database == "admin" ? "admin" : call.Collection, call.Transaction is not null);

    private static IEnumerable<string> OperatorsOf(ServerCall call) =>
        new BsonValue?[] { call.Filter, call.Update, call.Sort }.OfType<BsonValue>().Concat(call.Pipeline ?? []).SelectMany(DocumentedLimits.Operators);

    private static string Document => File.ReadAllText(Path.Combine(RepoPaths.Root, "docs", "mongodb.md"));

    [Fact]
    public async Task Every_command_the_store_sends_is_in_the_audit_and_every_audited_command_is_sent()
    {
        var sent = (await Scenario.Value).Calls.Select(Key).ToHashSet();

        sent.Except(MongoAudit.Commands).Should().BeEmpty("a command the audit does not list has not been checked against the manual");
        MongoAudit.Commands.Except(sent).Should().BeEmpty("the audit lists only what the store sends");
    }

    [Fact]
    public async Task Every_operator_the_store_sends_is_in_the_audit_and_needs_no_more_than_MongoDB_7_0()
    {
        var sent = (await Scenario.Value).Calls.SelectMany(OperatorsOf).ToHashSet();
        var audited = MongoAudit.Operators.Select(o => o.Name).ToHashSet();

        sent.Except(audited).Should().BeEmpty("an operator the audit does not list has not been checked against the manual");
        audited.Except(sent).Should().BeEmpty("the audit lists only what the store sends");
        MongoAudit.Operators.Where(o => o.Since != "< 4.0").Select(o => Version.Parse(o.Since))
            .Should().OnlyContain(v => v <= Kontext.Storage.Mongo.MongoDeployment.Minimum);
    }

    [Fact]
    public async Task The_whole_port_keeps_to_the_documented_limits() =>
        FakeTenant.NoViolations(await Scenario.Value);

    [Fact]
    public void The_audit_in_docs_mongodb_md_has_a_row_for_every_command_and_operator()
    {
        var document = Document;
        foreach (var command in MongoAudit.Commands)
        {
            var collection = command.Collection.Length == 0 ? "(database)" : command.Collection;
            document.Should().Contain($"| `{command.Name}` | `{collection}` | {(command.InTransaction ? "yes" : "no")} |");
        }
        foreach (var op in MongoAudit.Operators) document.Should().Contain($"| `{op.Name}` | {op.Since} |");
    }
}
