using Xunit.Abstractions;
using Xunit.Sdk;

namespace Kontext.Storage.Tests;

/// <summary>
/// A fact of the storage contract suite. The suite's methods are declared once on the abstract base and inherited by
/// one subclass per store; an attribute on the method cannot know which store it runs for, but the discoverer can: it
/// sees the concrete test class, and when that class carries <see cref="RequiresEnvironmentAttribute"/> whose variable
/// is unset, every inherited contract test is reported SKIPPED with the class's reason.
/// </summary>
[XunitTestCaseDiscoverer("Kontext.Storage.Tests.ContractFactDiscoverer", "Kontext.Storage.Tests")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class ContractFactAttribute : FactAttribute;

/// <summary>The store under test needs this environment variable (e.g. a server's URL); without it its contract tests are skipped.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class RequiresEnvironmentAttribute(string variable, string reason) : Attribute
{
    public string Variable { get; } = variable;
    public string Reason { get; } = reason;

    public string? SkipReason => string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(Variable)) ? Reason : null;
}

public sealed class ContractFactDiscoverer(IMessageSink diagnosticMessageSink) : IXunitTestCaseDiscoverer
{
    private readonly FactDiscoverer _facts = new(diagnosticMessageSink);

    public IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute)
    {
        var requirement = testMethod.TestClass.Class.GetCustomAttributes(typeof(RequiresEnvironmentAttribute)).FirstOrDefault();
        var reason = requirement is null ? null
            : new RequiresEnvironmentAttribute(requirement.GetConstructorArguments().ElementAt(0) as string ?? "", requirement.GetConstructorArguments().ElementAt(1) as string ?? "").SkipReason;
        if (reason is null) return _facts.Discover(discoveryOptions, testMethod, factAttribute);
        return [new XunitSkippedDataRowTestCase(diagnosticMessageSink, discoveryOptions.MethodDisplayOrDefault(), discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod, reason)];
    }
}
