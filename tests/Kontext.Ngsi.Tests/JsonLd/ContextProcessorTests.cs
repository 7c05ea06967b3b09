using System.Text.Json.Nodes;
using Kontext.Ngsi.JsonLd;

namespace Kontext.Ngsi.Tests.JsonLd;

public class ContextProcessorTests
{
    private static async Task<JsonLdContext> Process(string contextJson, FakeContextLoader? loader = null) =>
        await new ContextProcessor(loader ?? new FakeContextLoader()).ProcessAsync(JsonNode.Parse(contextJson), default);

    [Fact]
    public async Task A_term_expands_to_the_iri_it_is_mapped_to()
    {
        var ctx = await Process("""{ "speed": "http://example.org/speed" }""");
        ctx.ExpandTerm("speed").Should().Be("http://example.org/speed");
    }

    [Fact]
    public async Task An_expanded_term_definition_uses_its_id()
    {
        var ctx = await Process("""{ "ex": "http://example.org/", "speed": { "@id": "ex:velocity", "@type": "@id" } }""");
        ctx.ExpandTerm("speed").Should().Be("http://example.org/velocity");
        ctx.Find("speed")!.TypeMapping.Should().Be("@id");
    }

    [Fact]
    public async Task A_curie_expands_with_its_prefix()
    {
        var ctx = await Process("""{ "ex": "http://example.org/" }""");
        ctx.ExpandTerm("ex:speed").Should().Be("http://example.org/speed");
    }

    [Fact]
    public async Task A_term_defined_as_a_curie_expands_through_the_prefix_whatever_the_member_order()
    {
        var ctx = await Process("""{ "speed": "ex:velocity", "ex": "http://example.org/" }""");
        ctx.ExpandTerm("speed").Should().Be("http://example.org/velocity");
    }

    [Fact]
    public async Task A_curie_with_an_unknown_prefix_is_kept_as_an_absolute_iri()
    {
        var ctx = await Process("""{ "ex": "http://example.org/" }""");
        ctx.ExpandTerm("urn:ngsi-ld:Thing:1").Should().Be("urn:ngsi-ld:Thing:1");
        ctx.ExpandTerm("http://other.org/x").Should().Be("http://other.org/x");
    }

    [Fact]
    public async Task Vocab_expands_terms_the_context_does_not_define()
    {
        var ctx = await Process("""{ "@vocab": "http://example.org/vocab#" }""");
        ctx.ExpandTerm("brandName").Should().Be("http://example.org/vocab#brandName");
    }

    [Fact]
    public async Task Vocab_does_not_override_core_terms()
    {
        var ctx = await Process("""{ "@vocab": "http://example.org/vocab#" }""");
        ctx.ExpandTerm("location").Should().Be(T.NgsiNs + "location");
        ctx.ExpandTerm("observedAt").Should().Be(T.NgsiNs + "observedAt");
    }

    [Fact]
    public async Task Vocab_given_as_a_curie_is_expanded_with_the_prefix()
    {
        var ctx = await Process("""{ "ex": "http://example.org/", "@vocab": "ex:" }""");
        ctx.ExpandTerm("brandName").Should().Be("http://example.org/brandName");
    }

    [Fact]
    public void An_unknown_term_expands_into_the_ngsi_ld_default_vocabulary()
    {
        ContextProcessor.Core.ExpandTerm("almostFull").Should().Be("https://uri.etsi.org/ngsi-ld/default-context/almostFull");
    }

    [Fact]
    public async Task An_unknown_term_expands_into_the_default_vocabulary_with_a_user_context_too()
    {
        var ctx = await Process("""{ "speed": "http://example.org/speed" }""");
        ctx.ExpandTerm("almostFull").Should().Be(T.DefaultVocab + "almostFull");
    }

    [Fact]
    public async Task In_an_array_of_contexts_the_later_definition_wins()
    {
        var ctx = await Process("""[ { "speed": "http://a.org/speed", "kept": "http://a.org/kept" }, { "speed": "http://b.org/speed" } ]""");
        ctx.ExpandTerm("speed").Should().Be("http://b.org/speed");
        ctx.ExpandTerm("kept").Should().Be("http://a.org/kept");
    }

    [Fact]
    public async Task A_null_in_an_array_of_contexts_clears_the_earlier_user_terms()
    {
        var ctx = await Process("""[ { "speed": "http://a.org/speed" }, null, { "other": "http://a.org/other" } ]""");
        ctx.ExpandTerm("speed").Should().Be(T.DefaultVocab + "speed");
        ctx.ExpandTerm("other").Should().Be("http://a.org/other");
    }

    [Fact]
    public async Task Nested_url_contexts_are_dereferenced_through_the_loader()
    {
        var loader = new FakeContextLoader()
            .Serve("http://ctx.example.org/outer.jsonld", """[ "http://ctx.example.org/inner.jsonld", { "outer": "http://a.org/outer" } ]""")
            .Serve("http://ctx.example.org/inner.jsonld", """{ "inner": "http://a.org/inner" }""");
        var ctx = await Process("\"http://ctx.example.org/outer.jsonld\"", loader);

        ctx.ExpandTerm("outer").Should().Be("http://a.org/outer");
        ctx.ExpandTerm("inner").Should().Be("http://a.org/inner");
        loader.Calls.Should().BeEquivalentTo(new Dictionary<string, int>
        {
            ["http://ctx.example.org/outer.jsonld"] = 1,
            ["http://ctx.example.org/inner.jsonld"] = 1,
        });
    }

    [Fact]
    public async Task Import_brings_in_the_imported_terms_and_local_terms_override_them()
    {
        var loader = new FakeContextLoader()
            .Serve("http://ctx.example.org/base.jsonld", """{ "speed": "http://base.org/speed", "colour": "http://base.org/colour" }""");
        var ctx = await Process("""{ "@import": "http://ctx.example.org/base.jsonld", "speed": "http://local.org/speed" }""", loader);

        ctx.ExpandTerm("speed").Should().Be("http://local.org/speed");
        ctx.ExpandTerm("colour").Should().Be("http://base.org/colour");
        loader.TotalCalls.Should().Be(1);
    }

    [Theory]
    [InlineData("https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld")]
    [InlineData("https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.3.jsonld")]
    [InlineData("https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.7.jsonld")]
    [InlineData("https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld")]
    [InlineData("https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld")]
    [InlineData("https://uri.etsi.org/ngsi-ld/ngsi-ld-core-context.jsonld")]
    [InlineData("http://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld")]
    [InlineData("http://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld")]
    [InlineData("http://uri.etsi.org/ngsi-ld/ngsi-ld-core-context-v1.9.jsonld")]
    public async Task Every_published_core_context_url_is_the_core_context_without_calling_the_loader(string url)
    {
        CoreContext.IsCoreContextUrl(url).Should().BeTrue();
        var loader = new FakeContextLoader();

        var alone = await new ContextProcessor(loader).ProcessAsync(JsonValue.Create(url), default);
        alone.Should().BeSameAs(ContextProcessor.Core);
        alone.IsCoreOnly.Should().BeTrue();

        var withUserTerms = await new ContextProcessor(loader).ProcessAsync(
            new JsonArray(JsonNode.Parse("""{ "speed": "http://example.org/speed" }"""), JsonValue.Create(url)), default);
        withUserTerms.ExpandTerm("speed").Should().Be("http://example.org/speed");
        withUserTerms.ExpandTerm("location").Should().Be(T.NgsiNs + "location");

        loader.TotalCalls.Should().Be(0);
    }

    [Theory]
    [InlineData("https://example.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld")]
    [InlineData("https://uri.etsi.org/ngsi-ld/v1/my-context.jsonld")]
    [InlineData("https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld.evil")]
    public void Other_urls_are_not_taken_for_the_core_context(string url) =>
        CoreContext.IsCoreContextUrl(url).Should().BeFalse();

    [Fact]
    public async Task No_context_at_all_is_the_core_context()
    {
        var ctx = await new ContextProcessor(new FakeContextLoader()).ProcessAsync(null, default);
        ctx.Should().BeSameAs(ContextProcessor.Core);
        ctx.UserContext.Should().BeNull();
    }

    [Theory]
    [InlineData("location")]
    [InlineData("observedAt")]
    [InlineData("unitCode")]
    [InlineData("datasetId")]
    public async Task The_core_context_cannot_be_overridden_by_the_user(string coreTerm)
    {
        var ctx = await Process($$"""{ "{{coreTerm}}": "http://example.org/mine" }""");
        ctx.ExpandTerm(coreTerm).Should().StartWith(T.NgsiNs).And.NotBe("http://example.org/mine");
    }

    [Fact]
    public async Task A_user_mapping_of_location_still_expands_to_the_ngsi_ld_location()
    {
        var ctx = await Process("""{ "location": "http://example.org/myLocation" }""");
        ctx.ExpandTerm("location").Should().Be("https://uri.etsi.org/ngsi-ld/location");
    }

    [Fact]
    public async Task The_user_context_is_kept_as_given()
    {
        var ctx = await Process("""[ "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld", { "speed": "http://example.org/speed" } ]""");
        ctx.IsCoreOnly.Should().BeFalse();
        JsonNode.DeepEquals(ctx.UserContext,
            JsonNode.Parse("""[ "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld", { "speed": "http://example.org/speed" } ]""")).Should().BeTrue();
    }

    [Fact]
    public async Task The_same_context_processed_twice_loads_the_remote_document_once()
    {
        var loader = new FakeContextLoader().Serve("http://ctx.example.org/a.jsonld", """{ "speed": "http://example.org/speed" }""");
        var processor = new ContextProcessor(loader);

        var first = await processor.ProcessAsync(JsonValue.Create("http://ctx.example.org/a.jsonld"), default);
        var second = await processor.ProcessAsync(JsonValue.Create("http://ctx.example.org/a.jsonld"), default);

        loader.Calls["http://ctx.example.org/a.jsonld"].Should().Be(1);
        second.Should().BeSameAs(first);
        second.ExpandTerm("speed").Should().Be("http://example.org/speed");
    }

    [Fact]
    public async Task An_equal_inline_context_is_served_from_the_cache()
    {
        var processor = new ContextProcessor(new FakeContextLoader());
        var first = await processor.ProcessAsync(JsonNode.Parse("""{ "speed": "http://example.org/speed" }"""), default);
        var second = await processor.ProcessAsync(JsonNode.Parse("""{ "speed": "http://example.org/speed" }"""), default);
        second.Should().BeSameAs(first);
    }

    [Fact]
    public async Task A_context_that_includes_itself_is_BadRequestData()
    {
        var loader = new FakeContextLoader().Serve("http://ctx.example.org/self.jsonld", """[ { "a": "http://a.org/a" }, "http://ctx.example.org/self.jsonld" ]""");
        var act = () => (Task)Process("\"http://ctx.example.org/self.jsonld\"", loader);
        await act.ShouldBeBadRequestDataAsync();
    }

    [Fact]
    public async Task Contexts_that_include_each_other_are_BadRequestData()
    {
        var loader = new FakeContextLoader()
            .Serve("http://ctx.example.org/a.jsonld", """[ "http://ctx.example.org/b.jsonld" ]""")
            .Serve("http://ctx.example.org/b.jsonld", """{ "@import": "http://ctx.example.org/a.jsonld" }""");
        var act = () => (Task)Process("\"http://ctx.example.org/a.jsonld\"", loader);
        await act.ShouldBeBadRequestDataAsync();
    }

    [Fact]
    public async Task The_same_url_twice_side_by_side_is_not_a_cycle()
    {
        var loader = new FakeContextLoader().Serve("http://ctx.example.org/a.jsonld", """{ "speed": "http://example.org/speed" }""");
        var ctx = await Process("""[ "http://ctx.example.org/a.jsonld", "http://ctx.example.org/a.jsonld" ]""", loader);
        ctx.ExpandTerm("speed").Should().Be("http://example.org/speed");
    }

    [Theory]
    [InlineData("\"context.jsonld\"")]
    [InlineData("\"../contexts/context.jsonld\"")]
    [InlineData("[ { \"a\": \"http://a.org/a\" }, \"ctx/context.jsonld\" ]")]
    public async Task A_relative_url_entry_is_BadRequestData(string contextJson)
    {
        var loader = new FakeContextLoader();
        var act = () => (Task)Process(contextJson, loader);
        await act.ShouldBeBadRequestDataAsync();
        loader.TotalCalls.Should().Be(0);
    }

    [Fact]
    public async Task A_root_relative_url_entry_is_BadRequestData()
    {
        var loader = new FakeContextLoader().Serve("/ctx/context.jsonld", """{ "a": "http://a.org/a" }""");
        var act = () => (Task)Process("""[ { "b": "http://a.org/b" }, "/ctx/context.jsonld" ]""", loader);
        await act.ShouldBeBadRequestDataAsync();
        loader.TotalCalls.Should().Be(0);
    }

    [Theory]
    [InlineData("42")]
    [InlineData("true")]
    [InlineData("[ 1 ]")]
    public async Task A_context_that_is_neither_url_nor_object_nor_array_is_BadRequestData(string contextJson)
    {
        var act = () => (Task)Process(contextJson);
        await act.ShouldBeBadRequestDataAsync();
    }

    [Fact]
    public async Task A_remote_context_that_cannot_be_had_is_LdContextNotAvailable()
    {
        var act = () => (Task)Process("\"http://ctx.example.org/missing.jsonld\"");
        (await act.Should().ThrowAsync<Kontext.Ngsi.Errors.NgsiException>()).Which.Error.Type.Should().EndWith("LdContextNotAvailable");
    }
}
