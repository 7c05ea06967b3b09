using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Query;
using Kontext.Ngsi.Storage;
using Kontext.Storage.Mongo;
using MongoDB.Bson;

namespace Kontext.Storage.Tests.Mongo;

/// <summary>
/// D8b: the query model rendered to MongoDB filters, compared with the expected documents. Runs everywhere (no server).
/// Terms expand with the core context to https://uri.etsi.org/ngsi-ld/default-context/…, whose dots are stored as %2E.
/// </summary>
public sealed class MongoQueryTranslationTests
{
    private const string T = "https://uri.etsi.org/ngsi-ld/default-context/";   // an expanded type
    private const string K = "https://uri%2Eetsi%2Eorg/ngsi-ld/default-context/"; // the same IRI as a field-name segment

    private static MongoQuery Translate(EntityQueryParameters parameters, IReadOnlySet<string>? attrs = null) =>
        MongoQueryTranslator.Translate(new EntityPageRequest(EntityQuery.Parse(parameters, ContextProcessor.Core), 0, 20, false, attrs));

    private static void Renders(MongoQuery query, string expectedJson, bool exact)
    {
        query.Filter.ToJson().Should().Be(BsonDocument.Parse(expectedJson).ToJson());
        query.IsExact.Should().Be(exact);
    }

    [Fact]
    public void Attribute_iris_are_percent_encoded_reversibly_in_field_names()
    {
        MongoKeys.Encode("https://a.b/x$y%z").Should().Be("https://a%2Eb/x%24y%25z");
        MongoKeys.Decode("https://a%2Eb/x%24y%25z").Should().Be("https://a.b/x$y%z");
        MongoKeys.Decode(MongoKeys.Encode("%2E.")).Should().Be("%2E.");
    }

    [Fact]
    public void No_parameters_match_everything() => Renders(Translate(new()), "{}", exact: true);

    [Fact]
    public void Single_type() => Renders(Translate(new(Type: "A")), $$"""{ "type": "{{T}}A" }""", exact: true);

    [Fact]
    public void Type_alternatives_become_in() =>
        Renders(Translate(new(Type: "A,B")), $$"""{ "type": { "$in": ["{{T}}A", "{{T}}B"] } }""", exact: true);

    [Fact]
    public void Type_expression_with_and_and_parentheses() =>
        Renders(Translate(new(Type: "(A;B)|C")),
            $$"""{ "$or": [ { "$and": [ { "type": "{{T}}A" }, { "type": "{{T}}B" } ] }, { "type": "{{T}}C" } ] }""", exact: true);

    [Fact]
    public void Ids_are_an_in_on_the_primary_key() =>
        Renders(Translate(new(Id: "urn:ngsi-ld:E:1,urn:ngsi-ld:E:2")), """{ "_id": { "$in": ["urn:ngsi-ld:E:1", "urn:ngsi-ld:E:2"] } }""", exact: true);

    [Fact]
    public void IdPattern_is_left_to_the_evaluator() =>
        Renders(Translate(new(Type: "A", IdPattern: "^urn:.*:1$")), $$"""{ "type": "{{T}}A" }""", exact: false);

    [Fact]
    public void Several_parts_are_anded() =>
        Renders(Translate(new(Type: "A", Id: "urn:ngsi-ld:E:1")),
            $$"""{ "$and": [ { "_id": { "$in": ["urn:ngsi-ld:E:1"] } }, { "type": "{{T}}A" } ] }""", exact: true);

    [Fact]
    public void ScopeQ_exact_descendants_and_any()
    {
        Renders(Translate(new(ScopeQ: "/a/b")), """{ "scope": "/a/b" }""", exact: true);
        Renders(Translate(new(ScopeQ: "/a/#")),
            """{ "$or": [ { "scope": "/a" }, { "scope": { "$elemMatch": { "$gte": "/a/", "$lt": "/a0" } } } ] }""", exact: true);
        Renders(Translate(new(ScopeQ: "/#")), """{ "scope": { "$exists": true } }""", exact: true);
        Renders(Translate(new(ScopeQ: "/x;/y,/z")),
            """{ "$or": [ { "$and": [ { "scope": "/x" }, { "scope": "/y" } ] }, { "scope": "/z" } ] }""", exact: true);
    }

    [Fact]
    public void Q_numeric_comparisons_are_exact_on_the_scalar_index()
    {
        Renders(Translate(new(Q: "n==5")), $$"""{ "vals.{{K}}n": 5.0 }""", exact: true);
        Renders(Translate(new(Q: "n>5")), $$"""{ "vals.{{K}}n": { "$gt": 5.0 } }""", exact: true);
        Renders(Translate(new(Q: "n>=5")), $$"""{ "vals.{{K}}n": { "$gte": 5.0 } }""", exact: true);
        Renders(Translate(new(Q: "n<5")), $$"""{ "vals.{{K}}n": { "$lt": 5.0 } }""", exact: true);
        Renders(Translate(new(Q: "n<=5")), $$"""{ "vals.{{K}}n": { "$lte": 5.0 } }""", exact: true);
    }

    [Fact]
    public void Q_range_needs_one_element_within_both_bounds() =>
        Renders(Translate(new(Q: "n==1..4")), $$"""{ "vals.{{K}}n": { "$elemMatch": { "$gte": 1.0, "$lte": 4.0 } } }""", exact: true);

    [Fact]
    public void Q_value_list_and_booleans()
    {
        Renders(Translate(new(Q: "n==1,2")), $$"""{ "vals.{{K}}n": { "$in": [1.0, 2.0] } }""", exact: true);
        Renders(Translate(new(Q: "b==true")), $$"""{ "vals.{{K}}b": true }""", exact: true);
    }

    [Fact]
    public void Q_string_equality_prefilters_on_literal_or_vocab_iri() =>
        Renders(Translate(new(Q: "s==\"red\"")), $$"""{ "vals.{{K}}s": { "$in": ["red", "{{T}}red"] } }""", exact: false);

    [Fact]
    public void Q_not_equal_pattern_and_dates_need_the_attribute_and_the_evaluator()
    {
        Renders(Translate(new(Q: "n!=5")), $$"""{ "names": "{{K}}n" }""", exact: false);
        Renders(Translate(new(Q: "s~=^r")), $$"""{ "names": "{{K}}s" }""", exact: false);
        Renders(Translate(new(Q: "d>2024-01-01T00:00:00Z")), $$"""{ "names": "{{K}}d" }""", exact: false);
    }

    [Fact]
    public void Q_existence_and_absence()
    {
        Renders(Translate(new(Q: "n")), $$"""{ "names": "{{K}}n" }""", exact: true);
        Renders(Translate(new(Q: "!n")), $$"""{ "names": { "$ne": "{{K}}n" } }""", exact: true);
    }

    [Fact]
    public void Q_and_or_compose()
    {
        Renders(Translate(new(Q: "n>1;m<2")), $$"""{ "$and": [ { "vals.{{K}}n": { "$gt": 1.0 } }, { "vals.{{K}}m": { "$lt": 2.0 } } ] }""", exact: true);
        Renders(Translate(new(Q: "(n>1|m<2);p")),
            $$"""{ "$and": [ { "$or": [ { "vals.{{K}}n": { "$gt": 1.0 } }, { "vals.{{K}}m": { "$lt": 2.0 } } ] }, { "names": "{{K}}p" } ] }""", exact: true);
    }

    [Fact]
    public void Q_sub_attribute_path_must_exist_in_some_instance() =>
        Renders(Translate(new(Q: "n.sub>2")), $$"""{ "attrs.{{K}}n.{{K}}sub": { "$exists": true } }""", exact: false);

    [Fact]
    public void Q_meta_member_path() =>
        Renders(Translate(new(Q: "n.observedAt>2024-01-01T00:00:00Z")), $$"""{ "attrs.{{K}}n.observedAt": { "$exists": true } }""", exact: false);

    [Fact]
    public void Q_datasetId_of_a_multi_attribute_is_exact() =>
        Renders(Translate(new(Q: "n.datasetId==\"urn:ngsi-ld:D:1\"")), $$"""{ "attrs.{{K}}n.datasetId": "urn:ngsi-ld:D:1" }""", exact: true);

    [Fact]
    public void Q_compound_path_needs_the_attribute() =>
        Renders(Translate(new(Q: "c[a.b]==3")), $$"""{ "names": "{{K}}c" }""", exact: false);

    [Fact]
    public void Attrs_parameter_keeps_entities_with_any_of_them() =>
        Renders(Translate(new(), new HashSet<string> { T + "n" }), $$"""{ "names": { "$in": ["{{K}}n"] } }""", exact: true);

    [Fact]
    public void Selectors_of_a_subscription_are_alternatives()
    {
        var query = new EntityQuery(Selectors: new([new EntitySelector(new TypeIs(T + "A"), ["urn:ngsi-ld:E:1"], null), new EntitySelector(new TypeIs(T + "B"), null, "^x")]));
        Renders(MongoQueryTranslator.Translate(new EntityPageRequest(query, 0, 10, false)),
            $$"""{ "$or": [ { "$and": [ { "type": "{{T}}A" }, { "_id": "urn:ngsi-ld:E:1" } ] }, { "type": "{{T}}B" } ] }""", exact: false);
    }
}
