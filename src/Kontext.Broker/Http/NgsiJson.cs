using System.Text.Encodings.Web;
using System.Text.Json;

namespace Kontext.Broker.Http;

/// <summary>The broker's JSON writer settings: readable output (no \u escapes for &lt; &gt; ' +) since it is never embedded in HTML.</summary>
internal static class NgsiJson
{
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
