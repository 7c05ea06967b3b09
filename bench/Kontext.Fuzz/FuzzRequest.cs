using System.Net.Http.Headers;

namespace Kontext.Fuzz;

/// <summary>One generated request, kept as data so a failure can be printed and replayed.</summary>
public sealed record FuzzRequest(string Method, string Target, IReadOnlyList<(string Name, string Value)> Headers, byte[]? Body, string? ContentType)
{
    public HttpRequestMessage ToHttp()
    {
        var request = new HttpRequestMessage(new HttpMethod(Method), Target);
        foreach (var (name, value) in Headers) request.Headers.TryAddWithoutValidation(name, value);
        if (Body is not null)
        {
            request.Content = new ByteArrayContent(Body);
            if (ContentType is not null) request.Content.Headers.TryAddWithoutValidation("Content-Type", ContentType);
        }
        return request;
    }

    public override string ToString()
    {
        var body = Body is null ? "" : " " + System.Text.Encoding.UTF8.GetString(Body[..Math.Min(Body.Length, 300)]);
        var headers = string.Join(" ", Headers.Select(h => $"[{h.Name}: {h.Value[..Math.Min(h.Value.Length, 80)]}]"));
        return $"{Method} {Target[..Math.Min(Target.Length, 300)]} {headers} ({ContentType}){body}";
    }
}
