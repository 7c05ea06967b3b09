namespace Kontext.Adapters.Tests;

/// <summary>Paths of the repository: the shipped mappings/ and schemas/, and the reference data under tests/fixtures.</summary>
internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string Fixtures => Path.Combine(Root, "tests", "fixtures");

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Broker.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Broker.sln not found above " + AppContext.BaseDirectory);
    }
}
