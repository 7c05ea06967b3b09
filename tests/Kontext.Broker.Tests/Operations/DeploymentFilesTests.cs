using Kontext.Broker.Security;
using Kontext.Broker.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using YamlDotNet.RepresentationModel;

namespace Kontext.Broker.Tests.Operations;

/// <summary>
/// No container engine runs here, so the deployment files are held to what can be checked: they parse, they point at
/// routes the broker maps and that need no credential, the image runs as a non-root user with a health check and the
/// strict outbound profile, and the compose file can scale (the broker publishes no host port; a proxy does).
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class DeploymentFilesTests(BrokerFixture fx)
{
    private static string Read(params string[] path) => File.ReadAllText(Path.Combine([RepoPaths.Root, .. path]));

    private static List<YamlMappingNode> Documents(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        return stream.Documents.Select(d => (YamlMappingNode)d.RootNode).ToList();
    }

    private static YamlNode? At(YamlNode node, params string[] path)
    {
        foreach (var key in path)
        {
            if (node is not YamlMappingNode map || !map.Children.TryGetValue(new YamlScalarNode(key), out var next)) return null;
            node = next;
        }
        return node;
    }

    private bool IsOpenMappedGet(string path) =>
        fx.Factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().Any(e => e.RoutePattern.RawText == path)
        && RouteRights.For("GET", path)?.Gate == Gate.Open;

    [Fact]
    public void Compose_file_scales_behind_a_proxy_without_a_fixed_broker_port()
    {
        var compose = Documents(Read("docker-compose.yml")).Single();
        var services = (YamlMappingNode)At(compose, "services")!;
        var kontext = services.Children[new YamlScalarNode("kontext")];
        At(kontext, "ports").Should().BeNull("replicas of one service cannot share a host port");
        ((YamlSequenceNode)At(kontext, "expose")!).Children.Select(c => c.ToString()).Should().Equal("1026");
        At(kontext, "environment", "Kontext__Outbound__Profile")!.ToString().Should().Be("strict");
        At(kontext, "environment", "Kontext__Storage__Provider")!.ToString().Should().Be("mongo");
        ((YamlSequenceNode)At(services, "proxy", "ports")!).Children.Select(c => c.ToString()).Should().Equal("1026:1026");
        ((YamlSequenceNode)At(services, "proxy", "volumes")!).Children.Single().ToString().Should().StartWith("./deploy/Caddyfile:");
        var caddy = Read("deploy", "Caddyfile");
        caddy.Should().Contain("dynamic a").And.Contain("name kontext").And.Contain("port 1026").And.Contain("unhealthy_status 503");
    }

    [Fact]
    public void Kubernetes_manifest_parses_and_probes_open_routes_of_the_broker()
    {
        var documents = Documents(Read("deploy", "kubernetes", "kontext.yaml"));
        documents.Select(d => At(d, "kind")!.ToString()).Should().Equal("ConfigMap", "Deployment", "Service");
        var deployment = documents.Single(d => At(d, "kind")!.ToString() == "Deployment");
        var container = (YamlMappingNode)((YamlSequenceNode)At(deployment, "spec", "template", "spec", "containers")!).Children.Single();
        foreach (var probe in new[] { "livenessProbe", "readinessProbe", "startupProbe" })
        {
            var path = At(container, probe, "httpGet", "path")!.ToString();
            IsOpenMappedGet(path).Should().BeTrue("{0} probes {1}, which must be a mapped route open to anonymous callers", probe, path);
        }
        At(container, "readinessProbe", "httpGet", "path")!.ToString().Should().Be("/health/ready");
        At(deployment, "spec", "template", "metadata", "annotations", "prometheus.io/path")!.ToString().Should().Be("/metrics");
        At(deployment, "spec", "template", "spec", "securityContext", "runAsNonRoot")!.ToString().Should().Be("true");
        var configMap = documents.Single(d => At(d, "kind")!.ToString() == "ConfigMap");
        At(configMap, "data", "Kontext__Storage__Provider")!.ToString().Should().Be("mongo");
        At(configMap, "data", "Kontext__Auth__Mode")!.ToString().Should().NotBe("none");
        var service = documents.Single(d => At(d, "kind")!.ToString() == "Service");
        At(service, "spec", "selector", "app.kubernetes.io/name")!.ToString().Should().Be("kontext");
    }

    [Fact]
    public void Grafana_dashboard_parses_and_uses_only_documented_metrics()
    {
        var dashboard = System.Text.Json.Nodes.JsonNode.Parse(Read("docs", "grafana-dashboard.json"))!;
        var expressions = dashboard["panels"]!.AsArray().SelectMany(p => p!["targets"]!.AsArray()).Select(t => t!["expr"]!.GetValue<string>()).ToList();
        expressions.Should().HaveCountGreaterThan(8);
        var documented = Read("docs", "operations.md");
        var names = expressions.SelectMany(e => System.Text.RegularExpressions.Regex.Matches(e, @"\b(kontext|http_server|dotnet)_[a-z_]+").Select(m => m.Value)).Distinct().ToList();
        names.Should().Contain(["kontext_entities", "kontext_store_write_duration_seconds_bucket", "kontext_notifications_sent_total", "kontext_adapter_uplinks_total"]);
        foreach (var name in names.Where(n => n.StartsWith("kontext_", StringComparison.Ordinal)))
            documented.Should().Contain(System.Text.RegularExpressions.Regex.Replace(name, "_(bucket|count|sum)$", ""), "docs/operations.md lists every metric the dashboard uses");
    }

    [Fact]
    public void Dockerfile_runs_unprivileged_with_a_health_check_and_the_strict_outbound_profile()
    {
        var dockerfile = Read("Dockerfile").Split('\n').Select(l => l.Trim()).ToList();
        dockerfile.Should().Contain("USER app");
        dockerfile.Should().Contain(l => l.StartsWith("HEALTHCHECK ", StringComparison.Ordinal) && l.Contains("\"kontext\", \"health\""));
        dockerfile.Should().Contain(l => l.Contains("Kontext__Outbound__Profile=strict"));
        dockerfile.Should().Contain(l => l.Contains("dotnet publish src/Kontext.Cli/Kontext.Cli.csproj"));
        dockerfile.Should().Contain(l => l.StartsWith("VOLUME [\"/data\"]", StringComparison.Ordinal));
        IsOpenMappedGet("/health/live").Should().BeTrue("the image's health check runs `kontext health`, which asks /health/live");
    }
}
