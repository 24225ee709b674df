using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text.Json.Nodes;

namespace MetaNotebooks.Notebooks;

/// <summary>
/// Turns a value into a MIME bundle the way the C# kernel of Polyglot Notebooks does: HTML(…) → text/html;
/// a type with convention-based formatters (an attribute named TypeFormatterSourceAttribute, as the course
/// library's Figure and Display have) → every MIME type its formatters produce; anything else → text/plain.
/// Found by name through reflection, so it works whichever copy of the library a notebook loaded.
/// </summary>
public static class MimeBundle
{
    public static JsonObject For(object? value, IReadOnlyCollection<string>? only = null)
    {
        var bundle = new JsonObject();
        switch (value)
        {
            case null:
                bundle["text/plain"] = Lines("<null>");
                break;
            case HtmlString html:
                bundle["text/html"] = Lines(html.Html);
                break;
            default:
                if (!FromFormatters(value, bundle, only)) bundle["text/plain"] = Lines(PlainText(value));
                break;
        }
        return bundle;
    }

    private static bool FromFormatters(object value, JsonObject bundle, IReadOnlyCollection<string>? only)
    {
        var found = false;
        for (var type = value.GetType(); type is not null; type = type.BaseType)
        {
            foreach (var attribute in type.GetCustomAttributes(inherit: false))
            {
                var attributeType = attribute.GetType();
                if (attributeType.Name != "TypeFormatterSourceAttribute") continue;
                if (attributeType.GetProperty("FormatterSourceType")?.GetValue(attribute) is not Type sourceType) continue;
                var source = Activator.CreateInstance(sourceType, nonPublic: true);
                var create = sourceType.GetMethod("CreateTypeFormatters", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance);
                if (source is null || create?.Invoke(source, null) is not IEnumerable formatters) continue;
                foreach (var formatter in formatters)
                {
                    var ft = formatter.GetType();
                    var mime = ft.GetProperty("MimeType")?.GetValue(formatter) as string;
                    var format = ft.GetMethod("Format", [typeof(object), typeof(TextWriter)]);
                    if (mime is null || format is null || bundle.ContainsKey(mime)) continue;
                    if (only is not null && only.Count > 0 && !only.Contains(mime)) continue;
                    using var writer = new StringWriter(CultureInfo.InvariantCulture);
                    try
                    {
                        if (format.Invoke(formatter, [value, writer]) is false) continue;
                    }
                    catch (TargetInvocationException e) when (e.InnerException is not null)
                    {
                        throw e.InnerException;
                    }
                    bundle[mime] = Encode(mime, writer.ToString());
                    found = true;
                }
            }
            if (found) return true;
        }
        return false;
    }

    /// <summary>nbformat: JSON types are stored as JSON, text as lists of lines, binary (base64) as one string.</summary>
    private static JsonNode? Encode(string mime, string text)
    {
        if (mime == "application/json" || mime.EndsWith("+json", StringComparison.Ordinal)) return JsonNode.Parse(text);
        if (mime.StartsWith("text/", StringComparison.Ordinal) || mime == "image/svg+xml") return Lines(text);
        return text;
    }

    private static JsonArray Lines(string text) => NotebookDocument.Lines(text);

    /// <summary>ToString, except that sequences list their items (up to 50) instead of naming their type.</summary>
    public static string PlainText(object value)
    {
        if (value is string s) return s;
        if (value is IFormattable f) return f.ToString(null, CultureInfo.InvariantCulture);
        if (value is IEnumerable sequence && value.GetType().GetMethod("ToString", Type.EmptyTypes)?.DeclaringType == typeof(object))
        {
            var items = new List<string>();
            foreach (var item in sequence)
            {
                if (items.Count == 50) { items.Add("…"); break; }
                items.Add(item is null ? "null" : PlainText(item));
            }
            return "[" + string.Join(", ", items) + "]";
        }
        return value.ToString() ?? "";
    }
}
