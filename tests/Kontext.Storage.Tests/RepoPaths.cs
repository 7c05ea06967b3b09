namespace Kontext.Storage.Tests;

/// <summary>The repository's root (the folder holding Broker.sln), for the documents the store's tests check (docs/mongodb.md).</summary>
internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Broker.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Broker.sln not found above " + AppContext.BaseDirectory);
    }
}
