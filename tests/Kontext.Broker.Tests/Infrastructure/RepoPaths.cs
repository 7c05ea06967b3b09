namespace Kontext.Broker.Tests.Infrastructure;

/// <summary>Paths of the repository and of the shared reference data beside it.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string SharedData => Path.GetFullPath(Path.Combine(Root, "..", "shared", "data"));

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Broker.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Broker.sln not found above " + AppContext.BaseDirectory);
    }
}
