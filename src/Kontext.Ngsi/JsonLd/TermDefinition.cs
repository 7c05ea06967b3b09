namespace Kontext.Ngsi.JsonLd;

/// <summary>One term of an active context: the IRI it maps to and its value coercion (<c>@id</c>, <c>@vocab</c>, <c>@json</c>, a datatype IRI).</summary>
public sealed record TermDefinition(string Iri, string? TypeMapping = null, string? Container = null, bool CanBePrefix = false);
