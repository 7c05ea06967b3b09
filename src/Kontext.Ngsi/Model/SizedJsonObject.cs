using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;

namespace Kontext.Ngsi.Model;

/// <summary>
/// Attribute instances made at the size they reach: the parser's instance gets its members and then, in
/// <see cref="EntityOperations"/>, createdAt and modifiedAt, without its dictionary growing on the way (from 3 entries to 7
/// to 17, each growth a new pair of arrays: the largest share of a batch-created entity's allocations after the request
/// body). <see cref="JsonObject"/> has no capacity parameter; its dictionary is set through <see cref="UnsafeAccessorAttribute"/>
/// on the field System.Text.Json itself fills lazily, made as it makes it (ordinal names). A runtime whose field is not that
/// one (checked once) gets objects made as before: the members and their order are the same either way.
/// </summary>
internal static class SizedJsonObject
{
    /// <summary>Room for the two system times an instance gets when it is written (<see cref="EntityOperations"/>).</summary>
    public const int SystemTimes = 2;

    /// <summary>False where the runtime's object is not the one this was written against: objects are then made as before.</summary>
    internal static readonly bool Sizable = Probe();

    /// <summary>An empty object with room for <paramref name="members"/> members.</summary>
    public static JsonObject Create(int members)
    {
        var created = new JsonObject();
        if (Sizable) DictionaryOf(created) = new OrderedDictionary<string, JsonNode?>(members, StringComparer.Ordinal);
        return created;
    }

    /// <summary>A deep copy of <paramref name="instance"/> with room for <paramref name="more"/> members beyond its own (DeepClone sizes it to its count).</summary>
    public static JsonObject CopyOf(JsonObject instance, int more)
    {
        var copy = Create(instance.Count + more);
        foreach (var (name, value) in instance) copy.Add(name, value?.DeepClone());
        return copy;
    }

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_dictionary")]
    private static extern ref OrderedDictionary<string, JsonNode?>? DictionaryOf(JsonObject target);

    private static bool Probe()
    {
        try
        {
            var probe = new JsonObject();
            ref var dictionary = ref DictionaryOf(probe);
            if (dictionary is not null) return false; // not the lazily made dictionary this relies on
            dictionary = new OrderedDictionary<string, JsonNode?>(1, StringComparer.Ordinal);
            probe.Add("a", 1);
            return ReferenceEquals(DictionaryOf(probe), dictionary) && probe.ToJsonString() == """{"a":1}""";
        }
        catch (MissingFieldException)
        {
            return false;
        }
    }
}
