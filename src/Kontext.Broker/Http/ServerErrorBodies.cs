using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Kontext.Ngsi.Errors;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Kontext.Broker.Http;

/// <summary>
/// Gives Kestrel's own refusals a ProblemDetails body. Requests Kestrel cannot parse (a %00 in the target, a URL or
/// header block over its limits, an unknown HTTP version) are answered by the server before any middleware runs, with
/// an empty body, and ASP.NET Core has no hook for them. This connection middleware watches the start of each HTTP/1.1
/// response: one that is a 4xx/5xx with "Content-Length: 0" and "Connection: close" (only Kestrel answers so; the
/// broker's own errors always have a body) is rewritten with the same status and a ProblemDetails body. Nothing else
/// is copied or changed.
/// </summary>
internal static class ServerErrorBodies
{
    public static void Use(ListenOptions listen) => listen.Use(next => async connection =>
    {
        var transport = connection.Transport;
        connection.Transport = new Pipe(transport.Input, new Writer(transport.Output));
        try { await next(connection); }
        finally { connection.Transport = transport; }
    });

    private sealed class Pipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;
        public PipeWriter Output { get; } = output;
    }

    /// <summary>A pass-through writer that looks at the first bytes written after each flush, where a response begins.</summary>
    private sealed class Writer(PipeWriter inner) : PipeWriter
    {
        private Memory<byte> _lastMemory;
        private bool _atResponseStart = true;

        public override Memory<byte> GetMemory(int sizeHint = 0) => _lastMemory = inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

        public override void Advance(int bytes)
        {
            if (_atResponseStart && bytes > 0)
            {
                _atResponseStart = false;
                var written = _lastMemory.Span[..bytes];
                if (IsBareServerError(written, out var status))
                {
                    var replacement = Rewrite(written, status);
                    var target = inner.GetSpan(replacement.Length); // the same unadvanced memory: the original is copied out first
                    replacement.CopyTo(target);
                    inner.Advance(replacement.Length);
                    return;
                }
            }
            inner.Advance(bytes);
        }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            _atResponseStart = true;
            return inner.FlushAsync(cancellationToken);
        }

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => inner.UnflushedBytes;
    }

    /// <summary>A whole HTTP/1.1 header block of a 4xx/5xx with no body and a closing connection: Kestrel's signature.</summary>
    internal static bool IsBareServerError(ReadOnlySpan<byte> head, out int status)
    {
        status = 0;
        if (head.Length < 16 || !head.StartsWith("HTTP/1.1 "u8) || !head.EndsWith("\r\n\r\n"u8)) return false;
        if (head[9] is not ((byte)'4' or (byte)'5') || !char.IsAsciiDigit((char)head[10]) || !char.IsAsciiDigit((char)head[11])) return false;
        if (head.IndexOf("\r\nContent-Length: 0\r\n"u8) < 0 || head.IndexOf("\r\nConnection: close\r\n"u8) < 0) return false;
        status = (head[9] - '0') * 100 + (head[10] - '0') * 10 + (head[11] - '0');
        return true;
    }

    private static byte[] Rewrite(ReadOnlySpan<byte> head, int status)
    {
        var error = ErrorFor(status);
        var body = Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(new { type = error.Type, title = error.Title, status, detail = error.Detail }));
        var headers = Encoding.ASCII.GetString(head[..^2]).Replace("\r\nContent-Length: 0\r\n", $"\r\nContent-Length: {body.Length}\r\n", StringComparison.Ordinal);
        return [.. Encoding.ASCII.GetBytes(headers + "Content-Type: application/json\r\n\r\n"), .. body];
    }

    private static NgsiError ErrorFor(int status) => status switch
    {
        413 => NgsiError.RequestEntityTooLarge("The request body is larger than the server accepts"),
        414 => NgsiError.InvalidRequest("The request URL is longer than the server accepts") with { Status = 414, Title = "URI too long" },
        431 => NgsiError.InvalidRequest("The request headers are larger than the server accepts") with { Status = 431, Title = "Request header fields too large" },
        505 => NgsiError.InvalidRequest("Only HTTP/1.1 and HTTP/2 are supported") with { Status = 505, Title = "HTTP version not supported" },
        408 => NgsiError.InvalidRequest("The request did not arrive in time") with { Status = 408, Title = "Request timeout" },
        >= 500 => NgsiError.InternalError("The server could not process the request"),
        _ => NgsiError.InvalidRequest("The request is not valid HTTP (request line, target or headers); it was refused before reaching the API") with { Status = status },
    };
}
