using Kontext.Ngsi.JsonLd;
namespace Kontext.Ngsi.Tests.JsonLd;

public class CompactionTests
{
    /// <summary>
    /// Issue 12, session 16: the renderers write a compacted name as JSON text prepared once per context, only when no
    /// encoder escapes any of it; a term with a character some encoder escapes (non-ASCII, HTML's, quotes, +, `) is left
    /// to the writer's own encoder, so the answer does not depend on which encoder prepared the text.
    /// </summary>
    [Theory]
    [InlineData("http://example.org/speed", "speed", true)]
    [InlineData("http://example.org/thing/x-y_z.1#2", "ex:thing/x-y_z.1#2", true)]
    [InlineData("http://example.org/vélo", "vélo", false)]
    [InlineData("http://example.org/a<b>&c", "a<b>&c", false)]
    [InlineData("http://example.org/plus+tick`", "plus+tick`", false)]
    [InlineData("http://example.org/q'uote", "q'uote", false)]
    [InlineData("http://example.org/日本", "日本", false)]
    public void A_compacted_name_is_ready_JSON_text_only_when_no_encoder_escapes_it(string iri, string term, bool ready)
    {
        var ctx = T.Context($$"""{ "ex": "http://example.org/", {{System.Text.Json.JsonSerializer.Serialize(term)}}: {{System.Text.Json.JsonSerializer.Serialize(iri)}} }""");
        if (!term.StartsWith("ex:", StringComparison.Ordinal)) ctx.CompactIri(iri).Should().Be(term);
        var text = ctx.CompactedName(iri);
        text.HasValue.Should().Be(ready);
        if (ready) System.Text.Encoding.UTF8.GetString(text!.Value.EncodedUtf8Bytes).Should().Be(ctx.CompactIri(iri));
        ctx.CompactedName(iri).Should().Be(text, "the text is remembered with the term");
    }

    [Fact]
    public void Compaction_prefers_the_callers_term_over_the_full_iri()
    {
        var ctx = T.Context("""{ "speed": "http://example.org/speed" }""");
        ctx.CompactIri("http://example.org/speed").Should().Be("speed");
    }

    [Fact]
    public void Compaction_picks_the_shortest_term_when_two_map_to_the_same_iri()
    {
        var ctx = T.Context("""{ "velocity": "http://example.org/speed", "spd": "http://example.org/speed", "speedOfVehicle": "http://example.org/speed" }""");
        ctx.CompactIri("http://example.org/speed").Should().Be("spd");
    }

    [Fact]
    public void Compaction_breaks_a_length_tie_with_the_lexicographically_least_term()
    {
        var ctx = T.Context("""{ "vb": "http://example.org/speed", "va": "http://example.org/speed" }""");
        ctx.CompactIri("http://example.org/speed").Should().Be("va");
    }

    [Fact]
    public void Compaction_yields_a_vocab_relative_term_under_the_callers_vocab()
    {
        var ctx = T.Context("""{ "@vocab": "http://example.org/vocab#" }""");
        ctx.CompactIri("http://example.org/vocab#brandName").Should().Be("brandName");
    }

    [Fact]
    public void Compaction_yields_a_bare_term_for_the_default_vocabulary_under_the_core_context()
    {
        T.Context(null).CompactIri(T.DefaultVocab + "almostFull").Should().Be("almostFull");
    }

    [Fact]
    public void Compaction_falls_back_to_a_curie_with_the_callers_prefix()
    {
        var ctx = T.Context("""{ "ex": "http://example.org/" }""");
        ctx.CompactIri("http://example.org/thing/speed").Should().Be("ex:thing/speed");
        ctx.ExpandTerm("ex:thing/speed").Should().Be("http://example.org/thing/speed");
    }

    [Fact]
    public void Compaction_never_yields_a_term_the_caller_maps_elsewhere()
    {
        // Created with the core context only: almostFull lives in the default vocabulary.
        var iri = ContextProcessor.Core.ExpandTerm("almostFull");
        iri.Should().Be("https://uri.etsi.org/ngsi-ld/default-context/almostFull");

        var ctx = T.Context("""{ "almostFull": "http://example.org/almostFull" }""");
        var compacted = ctx.CompactIri(iri);

        compacted.Should().NotBe("almostFull");
        compacted.Should().Be("ngsi-ld:default-context/almostFull");
        ctx.ExpandTerm(compacted).Should().Be(iri);
    }

    [Fact]
    public void Compaction_of_a_default_vocabulary_iri_under_another_vocab_uses_the_core_prefix()
    {
        var ctx = T.Context("""{ "@vocab": "http://example.org/vocab#" }""");
        var compacted = ctx.CompactIri(T.DefaultVocab + "almostFull");
        compacted.Should().Be("ngsi-ld:default-context/almostFull");
        ctx.ExpandTerm(compacted).Should().Be(T.DefaultVocab + "almostFull");
    }

    [Fact]
    public void Core_iris_compact_to_core_terms_whatever_the_user_context()
    {
        var ctx = T.Context("""{ "location": "http://example.org/myLocation", "loc": "http://example.org/myLocation" }""");
        ctx.CompactIri(T.NgsiNs + "location").Should().Be("location");
        ctx.CompactIri(T.NgsiNs + "observedAt").Should().Be("observedAt");
    }

    [Fact]
    public void An_iri_no_term_or_prefix_covers_stays_as_it_is()
    {
        var ctx = T.Context("""{ "ex": "http://example.org/" }""");
        ctx.CompactIri("urn:ngsi-ld:Thing:1").Should().Be("urn:ngsi-ld:Thing:1");
        ctx.CompactIri("http://other.org/x").Should().Be("http://other.org/x");
    }

    [Theory]
    [InlineData("speed")]
    [InlineData("ex:other")]
    [InlineData("almostFull")]
    [InlineData("location")]
    [InlineData("http://elsewhere.org/x")]
    public void Expanding_a_compacted_iri_gives_the_iri_back(string term)
    {
        var ctx = T.Context("""{ "ex": "http://example.org/", "speed": "ex:speed", "almostFull": "ex:almostFull" }""");
        var iri = ctx.ExpandTerm(term);
        ctx.ExpandTerm(ctx.CompactIri(iri)).Should().Be(iri);
    }
}
