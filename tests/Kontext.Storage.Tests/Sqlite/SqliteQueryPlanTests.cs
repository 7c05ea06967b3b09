using System.Text.Json.Nodes;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;
using Kontext.Ngsi.Storage;

namespace Kontext.Storage.Tests.Sqlite;

/// <summary>
/// The SQLite store answers an exact query's page either by walking the oldest entities with per-entity index look-ups
/// (a bounded window) or by set membership over the whole table. Whichever answers, the page must be the evaluator's:
/// these cases put the matches inside the window, beyond it, across its edge and in a deep page, over more entities
/// than the window holds (the random differential test uses fewer, so there the walk always answers).
/// </summary>
public sealed class SqliteQueryPlanTests(SqliteQueryPlanTests.Data data) : IClassFixture<SqliteQueryPlanTests.Data>
{
    private const int Count = 6_000;

    /// <summary>6,000 entities written once for the class, and their creation order.</summary>
    public sealed class Data : IAsyncLifetime
    {
        private readonly SqliteTestDirectory _directory = new("plan");
        private IEntityStorage _storage = null!;
        public ITenantStore Store { get; private set; } = null!;
        public List<Entity> InCreationOrder { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            _storage = _directory.Open();
            Store = (await _storage.GetTenantAsync(null, true, default))!;
            // A subscription makes the store log every write: the log gives the creation order below.
            await Store.WriteSubscriptionAsync("urn:ngsi-ld:Subscription:order", _ => new SubscriptionWrite<bool>(true, "{}"), default);
            for (var batch = 0; batch < Count; batch += 500)
            {
                await Task.WhenAll(Enumerable.Range(batch, 500).Select(i =>
                {
                    // Dense: every other entity. Sparse: only the last ten, far beyond the walk's window.
                    var type = i >= Count - 10 ? "Sparse" : i % 2 == 0 ? "Dense" : "Other";
                    var entity = EntityParser.ParseEntity(JsonNode.Parse($$"""{"id":"urn:ngsi-ld:P:{{i}}","type":"{{type}}","n":{{i}},"label":"{{(i % 3 == 0 ? "x" : "y")}}"}""")!.AsObject(), ContextProcessor.Core, ParseMode.Full);
                    return Store.WriteAsync(entity.Id, _ =>
                    {
                        var operations = new EntityOperations(DateTimeOffset.UtcNow);
                        return EntityWrite<bool>.Upsert(operations.Create(entity), operations.Changes, true);
                    }, default);
                }));
            }
            // Creation order is commit order, which the change log records.
            var order = (await Store.ReadChangesAsync(0, Count + 10, default)).Select(c => c.EntityId).ToList();
            order.Should().HaveCount(Count);
            InCreationOrder = [];
            foreach (var id in order) InCreationOrder.Add((await Store.GetEntityAsync(id, default))!);
        }

        public async Task DisposeAsync()
        {
            await _storage.DisposeAsync();
            await _directory.DeleteAsync();
        }
    }

    [Theory]
    [InlineData("Dense", null, 0, 20)]          // fills inside the window
    [InlineData("Dense", "n>5000", 0, 20)]      // matches start beyond the window: the set plan answers
    [InlineData("Dense", "n>1500", 0, 100)]     // matches straddle the window's edge
    [InlineData("Sparse", null, 0, 5)]          // ten matches at the very end
    [InlineData("Sparse", null, 8, 5)]          // a short last page
    [InlineData("Dense", null, 2_500, 1_000)]   // a deep page: wider window, here the whole table
    [InlineData("Dense", null, 3_500, 1_000)]   // deeper than any window: the set plan
    [InlineData("Dense,Sparse", "n>=5980", 0, 50)]
    [InlineData("Nothing", null, 0, 10)]
    // String equality is only pre-filtered in SQL: the evaluator decides, walking candidates the same two ways.
    [InlineData("Dense", "label==%22x%22", 0, 20)]
    [InlineData("Dense", "label==%22x%22;n>5000", 0, 20)]
    [InlineData("Dense", "label==%22x%22;n>1900", 10, 100)]
    [InlineData("Sparse", "label==%22x%22", 0, 5)]
    [InlineData("Dense", "label==%22y%22", 1_500, 1_000)]
    public async Task The_page_and_count_equal_the_evaluator(string type, string? q, int offset, int limit)
    {
        var query = EntityQuery.Parse(new EntityQueryParameters(Type: type, Q: Uri.UnescapeDataString(q ?? "") is { Length: > 0 } text ? text : null), ContextProcessor.Core);
        var expected = data.InCreationOrder.Where(e => EntityMatcher.Matches(e, query)).Select(e => e.Id).ToList();

        var counted = await data.Store.QueryAsync(new EntityPageRequest(query, offset, limit, Count: true), default);
        var uncounted = await data.Store.QueryAsync(new EntityPageRequest(query, offset, limit, Count: false), default);

        counted.Entities.Select(e => e.Id).Should().Equal(expected.Skip(offset).Take(limit));
        counted.TotalCount.Should().Be(expected.Count);
        uncounted.Entities.Select(e => e.Id).Should().Equal(expected.Skip(offset).Take(limit), "without a count the window walk is tried first");
    }
}
