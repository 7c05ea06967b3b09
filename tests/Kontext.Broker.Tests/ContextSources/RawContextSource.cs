using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Kontext.Broker.Tests.ContextSources;

/// <summary>
/// A context source on 127.0.0.1 spoken to over raw TCP, so a test decides what each connection does with the request it
/// reads: answer it (200 and an empty array to GET and POST, 204 to the other methods), close without an answer, answer
/// as an HTTP/1.0 server and close a moment later (unread requests and all), or answer every request of the connection
/// with 204 as an HTTP/1.1 server keeping it open.
/// </summary>
public sealed class RawContextSource : IDisposable
{
    public enum Reply { Answer, CloseWithoutAnswer, AnswerAsHttp10ThenClose, AnswerKeepingConnection }

    private readonly TcpListener _listener;
    private readonly Func<int, Reply> _script;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<string> _requests = new();
    private int _connections;

    private RawContextSource(TcpListener listener, Func<int, Reply> script)
    {
        _listener = listener;
        _script = script;
    }

    public string BaseUrl => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    /// <summary>Connections accepted so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Requests read so far, as "METHOD /path".</summary>
    public IReadOnlyList<string> Requests => _requests.ToList();

    /// <summary>Starts listening on <paramref name="port"/> (0: a free one); <paramref name="script"/> says what the n-th connection (from 0) does.</summary>
    public static RawContextSource Start(Func<int, Reply> script, int port = 0)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        var source = new RawContextSource(listener, script);
        _ = source.AcceptAsync();
        return source;
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) { return; }
            var reply = _script(Interlocked.Increment(ref _connections) - 1);
            _ = ServeAsync(client, reply);
        }
    }

    private async Task ServeAsync(TcpClient client, Reply reply)
    {
        using var _ = client;
        try
        {
            var stream = client.GetStream();
            if (await ReadRequestAsync(stream) is not { } request) return;
            _requests.Enqueue(request);
            if (reply == Reply.AnswerKeepingConnection)
            {
                while (true)
                {
                    await stream.WriteAsync("HTTP/1.1 204 No Content\r\n\r\n"u8.ToArray());
                    if (await ReadRequestAsync(stream) is not { } next) return;
                    _requests.Enqueue(next);
                }
            }
            switch (reply)
            {
                case Reply.Answer when request.StartsWith("GET ") || request.StartsWith("POST "):
                    await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n[]"u8.ToArray());
                    break;
                case Reply.Answer:
                    await stream.WriteAsync("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"u8.ToArray());
                    break;
                case Reply.AnswerAsHttp10ThenClose:
                    // As Python's http.server does: HTTP/1.0, no Connection header, the connection closed after the answer.
                    // The close comes a moment later, so a client that keeps the connection sends its next request into it.
                    await stream.WriteAsync("HTTP/1.0 204 No Content\r\nServer: raw\r\n\r\n"u8.ToArray());
                    await Task.Delay(300, _stop.Token);
                    break;
                case Reply.CloseWithoutAnswer:
                    break;
            }
        }
        catch (Exception) { /* the test sees what the client got */ }
    }

    /// <summary>Reads the head and the Content-Length body of one request; returns its "METHOD /path", null if the client left.</summary>
    private async Task<string?> ReadRequestAsync(NetworkStream stream)
    {
        var buffer = new List<byte>();
        var chunk = new byte[4096];
        int headEnd;
        while ((headEnd = IndexOfHeadEnd(buffer)) < 0)
        {
            var read = await stream.ReadAsync(chunk, _stop.Token);
            if (read == 0) return null;
            buffer.AddRange(chunk.AsSpan(0, read));
        }
        var head = Encoding.ASCII.GetString(buffer.GetRange(0, headEnd).ToArray());
        var length = head.Split("\r\n").Select(l => l.Split(':', 2)).Where(p => p.Length == 2 && p[0].Trim().Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            .Select(p => int.Parse(p[1].Trim())).FirstOrDefault();
        var body = buffer.Count - headEnd - 4;
        while (body < length)
        {
            var read = await stream.ReadAsync(chunk, _stop.Token);
            if (read == 0) return null;
            body += read;
        }
        var line = head.Split("\r\n")[0].Split(' ');
        return line[0] + " " + line[1];
    }

    private static int IndexOfHeadEnd(List<byte> buffer)
    {
        for (var i = 0; i + 3 < buffer.Count; i++)
            if (buffer[i] == '\r' && buffer[i + 1] == '\n' && buffer[i + 2] == '\r' && buffer[i + 3] == '\n') return i;
        return -1;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }
}
