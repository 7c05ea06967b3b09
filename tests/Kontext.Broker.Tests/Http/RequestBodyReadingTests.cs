using System.Text;
using System.Text.Json.Nodes;
using Kontext.Broker.Http;
using Kontext.Ngsi.Errors;
using Microsoft.AspNetCore.Http;

namespace Kontext.Broker.Tests.Http;

/// <summary>
/// Reading a request body (clause 6.3.4 with Kontext:Limits:MaxRequestBodyBytes): whole however the transport splits it,
/// with or without Content-Length, and 413 RequestEntityTooLarge one byte past the limit.
/// </summary>
public class RequestBodyReadingTests
{
    private static string Json(int length)
    {
        // {"blob":"xxx…"} of exactly the given length in bytes
        var padding = length - """{"blob":""}""".Length;
        return $$"""{"blob":"{{new string('x', padding)}}"}""";
    }

    private static HttpContext Request(string body, bool withLength, int chunk = 997)
    {
        var http = new DefaultHttpContext();
        var bytes = Encoding.UTF8.GetBytes(body);
        http.Request.Body = new TrickleStream(bytes, chunk);
        if (withLength) http.Request.ContentLength = bytes.Length;
        return http;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_body_split_into_many_reads_is_read_whole(bool withLength)
    {
        var body = Json(100_000);

        var node = await NgsiRequest.ReadJsonAsync(Request(body, withLength), maxBytes: 1_000_000);

        node!.ToJsonString().Should().Be(body);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_body_of_exactly_the_limit_is_read_and_one_byte_more_is_413(bool withLength)
    {
        var atLimit = await NgsiRequest.ReadJsonAsync(Request(Json(40_000), withLength), maxBytes: 40_000);
        atLimit!["blob"]!.GetValue<string>().Should().HaveLength(40_000 - """{"blob":""}""".Length);

        var over = () => NgsiRequest.ReadJsonAsync(Request(Json(40_001), withLength), maxBytes: 40_000);
        (await over.Should().ThrowAsync<NgsiException>()).Which.Error.Status.Should().Be(413);
    }

    [Fact]
    public async Task An_empty_body_is_InvalidRequest()
    {
        var read = () => NgsiRequest.ReadJsonAsync(Request("", withLength: false), maxBytes: 1000);
        (await read.Should().ThrowAsync<NgsiException>()).Which.Error.Type.Should().EndWith("InvalidRequest");
    }

    [Fact]
    public async Task A_body_arriving_in_one_read_beyond_a_small_first_buffer_is_read_whole()
    {
        var body = Json(70_000);

        var node = await NgsiRequest.ReadJsonAsync(Request(body, withLength: false, chunk: int.MaxValue), maxBytes: 1_000_000);

        node.Should().BeOfType<JsonObject>().Which.ToJsonString().Should().Be(body);
    }

    /// <summary>A request body that hands out at most <c>chunk</c> bytes per read, as a slow client's packets arrive.</summary>
    private sealed class TrickleStream(byte[] data, int chunk) : Stream
    {
        private int _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = Math.Min(Math.Min(chunk, buffer.Length), data.Length - _position);
            data.AsSpan(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => new(Read(buffer.Span));
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
