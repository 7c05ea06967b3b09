using System.Buffers;
using System.Text.Json;

namespace Kontext.Broker.Http;

/// <summary>
/// A JSON answer rendered whole before it is handed to the server, so it goes out with a Content-Length: one write of
/// headers and body when the request ends, where a body streamed without a length is chunked (framing, and a flush for
/// the body plus a write for the closing chunk). For answers rendered synchronously and known to be small (one entity);
/// the buffer and writer are the thread's own and reused, and a buffer grown past <see cref="KeptCapacity"/> is let go.
/// A render that throws has written nothing, so the error answer is whole too.
/// </summary>
internal static class SizedBody
{
    private const int KeptCapacity = 64 * 1024;

    [ThreadStatic] private static ArrayBufferWriter<byte>? _buffer;
    [ThreadStatic] private static Utf8JsonWriter? _writer;

    public static void WriteJson<TState>(HttpResponse response, TState state, Action<Utf8JsonWriter, TState> render)
    {
        var buffer = _buffer ??= new ArrayBufferWriter<byte>(4096);
        var writer = _writer ??= new Utf8JsonWriter(buffer, NgsiJson.WriterOptions);
        writer.Reset(buffer);
        try
        {
            render(writer, state);
            writer.Flush();
            response.ContentLength = buffer.WrittenCount;
            response.BodyWriter.Write(buffer.WrittenSpan);
        }
        finally
        {
            if (buffer.Capacity > KeptCapacity) (_buffer, _writer) = (null, null);
            else buffer.ResetWrittenCount();
        }
    }
}
