using System.Text.RegularExpressions;
using FluentAssertions;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Conformance;

/// <summary>
/// conformance/MIMs.md promises procurers that each MIM requirement is proven by a named test. These tests read the
/// statement and the test sources, so a renamed or deleted test, or a row that names none, fails the build.
/// </summary>
public sealed partial class MimsStatementTests
{
    private static string Statement => File.ReadAllText(Path.Combine(RepoPaths.Root, "conformance", "MIMs.md"));

    // `Class.Method` or `Class` (a whole test class) in back-quotes; test classes end in "Tests".
    [GeneratedRegex(@"`(?<class>[A-Z][A-Za-z0-9_]*Tests)(\.(?<method>[A-Za-z0-9_]+))?`")]
    private static partial Regex TestReference();

    [Fact]
    public void Every_test_named_in_the_MIMs_statement_exists()
    {
        var sources = Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "tests"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .Select(File.ReadAllText).ToList();
        var references = TestReference().Matches(Statement).ToList();
        references.Should().HaveCountGreaterThan(40, "the statement names the tests behind its rows");

        var missing = references.Where(r => !sources.Any(source => Declares(source, r.Groups["class"].Value, r.Groups["method"].Success ? r.Groups["method"].Value : null)))
            .Select(r => r.Value).Distinct().ToList();
        missing.Should().BeEmpty("every test named in conformance/MIMs.md must exist (rename it there when a test is renamed)");
    }

    [Fact]
    public void Every_row_of_the_MIMs_statement_names_a_test_or_says_what_is_missing()
    {
        var rows = Statement.Split('\n')
            .Where(line => line.StartsWith('|') && !line.StartsWith("|---") && !line.StartsWith("| id ") && !line.StartsWith("| capability"))
            .ToList();
        rows.Should().HaveCountGreaterThan(20);
        rows.Where(row => !TestReference().IsMatch(row) && !row.Contains("| partly |") && !row.Contains("| not met |"))
            .Should().BeEmpty("a requirement marked met names the test that proves it");
    }

    private static bool Declares(string source, string className, string? method) =>
        Regex.IsMatch(source, $@"\bclass {className}\b")
        && (method is null || Regex.IsMatch(source, $@"\b(Task|void) {method}\s*\("));
}
