using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace MetaNotebooks.Figures;

/// <summary>
/// Writes Plotly JSON with one number format (7 significant digits, invariant culture, NaN and ±∞ as null),
/// so that the same figure always serialises to the same bytes and re-running a notebook gives a small diff.
/// </summary>
public sealed class PlotlyJsonWriter : IDisposable
{
    private readonly MemoryStream stream = new();
    private readonly Utf8JsonWriter writer;

    /// <summary>Relaxed escaping keeps the JSON readable; "&lt;/script" is still escaped (see <see cref="Figure.ToHtml"/>).</summary>
    public PlotlyJsonWriter(bool indented = false) =>
        writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = indented, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    public Utf8JsonWriter Json => writer;

    /// <summary>Shortest of: an integer, or 7 significant digits (float32 precision, enough for any plot).</summary>
    public static string FormatNumber(double v, int significantDigits = 7)
    {
        if (!double.IsFinite(v)) return "null";
        if (v == Math.Floor(v) && Math.Abs(v) < 1e15) return ((long)v).ToString(CultureInfo.InvariantCulture);
        var s = v.ToString("G" + significantDigits, CultureInfo.InvariantCulture);
        return s.Replace("E+", "e+").Replace("E-", "e-");
    }

    public void Number(string name, double v, int digits = 7)
    {
        writer.WritePropertyName(name);
        writer.WriteRawValue(FormatNumber(v, digits), skipInputValidation: true);
    }

    public void Number(double v, int digits = 7) => writer.WriteRawValue(FormatNumber(v, digits), skipInputValidation: true);

    public void Numbers(string name, IEnumerable<double> values, int digits = 7)
    {
        writer.WritePropertyName(name);
        Numbers(values, digits);
    }

    public void Numbers(IEnumerable<double> values, int digits = 7)
    {
        writer.WriteStartArray();
        foreach (var v in values) Number(v, digits);
        writer.WriteEndArray();
    }

    public void Strings(string name, IEnumerable<string> values)
    {
        writer.WritePropertyName(name);
        writer.WriteStartArray();
        foreach (var v in values) writer.WriteStringValue(v);
        writer.WriteEndArray();
    }

    public void String(string name, string? value)
    {
        if (value is not null) writer.WriteString(name, value);
    }

    public void Bool(string name, bool value) => writer.WriteBoolean(name, value);

    public void Start(string? name = null)
    {
        if (name is null) writer.WriteStartObject();
        else writer.WriteStartObject(name);
    }

    public void End() => writer.WriteEndObject();

    public void StartArray(string name) => writer.WriteStartArray(name);

    public void EndArray() => writer.WriteEndArray();

    public override string ToString()
    {
        writer.Flush();
        return Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }

    public void Dispose()
    {
        writer.Dispose();
        stream.Dispose();
    }
}
