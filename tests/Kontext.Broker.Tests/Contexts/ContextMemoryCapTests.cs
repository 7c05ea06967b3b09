using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;
using Kontext.Ngsi.JsonLd;

namespace Kontext.Broker.Tests.Contexts;

/// <summary>In-memory caches of @contexts are capped by count and bytes, and lookups of unknown names leave nothing behind.</summary>
public sealed class ContextMemoryCapTests
{
    private sealed class NoRemoteContexts : IContextDocumentLoader
    {
        public ValueTask<JsonNode?> LoadContextAsync(string url, CancellationToken cancellationToken) => throw new InvalidOperationException(url);
    }

    [Fact]
    public void Bounded_cache_drops_the_least_recently_used_entries_beyond_its_count_or_weight()
    {
        var cache = new BoundedCache<int>(maxEntries: 3, maxWeight: 100);
        cache.Set("a", 1, 10);
        cache.Set("b", 2, 10);
        cache.Set("c", 3, 10);
        cache.TryGet("a", out _).Should().BeTrue(); // a is now the most recently used

        cache.Set("d", 4, 10);   // over the count: b, the least recently used, goes
        cache.Set("e", 5, 75);   // over the weight: c goes, which makes room

        cache.TryGet("b", out _).Should().BeFalse();
        cache.TryGet("c", out _).Should().BeFalse();
        cache.TryGet("a", out _).Should().BeTrue();
        cache.TryGet("d", out var d).Should().BeTrue();
        d.Should().Be(4);
        cache.Weight.Should().Be(95);
        cache.Set("huge", 6, 101);
        cache.TryGet("huge", out _).Should().BeFalse("an entry heavier than the whole budget is not kept");
    }

    [Fact]
    public async Task Processed_contexts_stay_within_the_byte_cap_however_many_large_inline_contexts_arrive()
    {
        const long cap = 4 * 1024 * 1024;
        var processor = new ContextProcessor(new NoRemoteContexts(), maxCachedContexts: 1000, maxCachedBytes: cap);

        for (var i = 0; i < 60; i++)
        {
            var terms = new JsonObject();
            for (var t = 0; t < 2000; t++) terms[$"term{i}_{t}"] = $"https://example.org/vocabulary/{i}/term-number-{t}";
            await processor.ProcessAsync(terms, default);
        }

        processor.CacheUsage.Bytes.Should().BeLessThanOrEqualTo(cap);
        processor.CacheUsage.Count.Should().BeInRange(1, 59);
    }
}
