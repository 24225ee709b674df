using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text;
using MetaNotebooks.Torch;

namespace MetaNotebooks.Figures;

/// <summary>
/// A table for a notebook: HTML where HTML is shown, aligned text elsewhere (an exported chapter, a terminal).
/// Make one with <see cref="Table(IReadOnlyList{string}, IEnumerable{IEnumerable{object}}, string)"/>,
/// <see cref="Table{T}(IEnumerable{T}, string)"/> (one row per record) or <see cref="Tensor"/>; show it with display(…).
/// </summary>
[TypeFormatterSource(typeof(DisplayFormatterSource), PreferredMimeTypes = ["text/html"])]
public sealed class Display
{
    private Display(string html, string text) => (Html, Text) = (html, text);

    public string Html { get; }
    public string Text { get; }

    public override string ToString() => Text;

    /// <summary>Rows of cells under column headers. Numbers are right-aligned; doubles get up to 4 decimals.</summary>
    public static Display Table(IReadOnlyList<string> columns, IEnumerable<IEnumerable<object?>> rows, string? caption = null)
    {
        var cells = rows.Select(r => r.Select(ToCell).ToArray()).ToArray();
        foreach (var (row, i) in cells.Select((r, i) => (r, i)))
            if (row.Length != columns.Count)
                throw new ArgumentException($"Row {i + 1} has {row.Length} cells for {columns.Count} columns.", nameof(rows));
        return Build(columns, cells, caption, rowHeaders: false);
    }

    /// <summary>One row per record, one column per public property (in declaration order): handy with C# records.</summary>
    public static Display Table<T>(IEnumerable<T> records, string? caption = null)
    {
        var props = typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0).ToArray();
        if (props.Length == 0) throw new ArgumentException($"{typeof(T).Name} has no public properties to show as columns.", nameof(records));
        return Table(props.Select(p => p.Name).ToArray(), records.Select(r => props.Select(p => p.GetValue(r))), caption);
    }

    /// <summary>The shape of each named tensor, one row each: how a chapter shows what flows through an equation.</summary>
    public static Display Shapes(IEnumerable<(string Name, Tensor Tensor)> tensors, string? caption = null) =>
        Table(["quantity", "shape"], tensors.Select(t => new object?[] { t.Name, $"[{string.Join(", ", t.Tensor.shape)}]" }), caption);

    /// <summary>A 0-, 1- or 2-D tensor as a table with its indices; large ones show their first and last rows and columns.</summary>
    public static Display Tensor(Tensor tensor, int decimals = 4, string? caption = null, int maxRows = 20, int maxColumns = 12)
    {
        var shape = tensor.shape;
        if (shape.Length > 2)
            throw new ArgumentException($"Display.Tensor shows 0-, 1- and 2-D tensors; this one is [{string.Join(", ", shape)}]: index or reshape it first.", nameof(tensor));
        var values = tensor.ToArray<double>();
        var dtype = tensor.dtype;
        var format = "0." + new string('0', Math.Max(decimals, 1));
        string Value(double v) =>
            dtype == ScalarType.Bool ? (v != 0 ? "True" : "False") :
            !dtype.IsFloatingPoint() ? ((long)v).ToString(CultureInfo.InvariantCulture) :
            double.IsNaN(v) ? "nan" : double.IsInfinity(v) ? (v > 0 ? "inf" : "-inf") :
            v.ToString(format, CultureInfo.InvariantCulture);
        long rows = shape.Length == 2 ? shape[0] : 1, cols = shape.Length == 0 ? 1 : shape[^1];
        var rowIndex = Pick(rows, maxRows);
        var colIndex = Pick(cols, maxColumns);
        var header = new List<string> { "" };
        header.AddRange(colIndex.Select(j => j < 0 ? "…" : j.ToString(CultureInfo.InvariantCulture)));
        var cells = rowIndex.Select(i =>
        {
            var row = new List<TableCell> { new(i < 0 ? "…" : shape.Length == 2 ? i.ToString(CultureInfo.InvariantCulture) : "", false) };
            row.AddRange(colIndex.Select(j => i < 0 || j < 0 ? new TableCell("…", false) : new TableCell(Value(values[i * cols + j]), true)));
            return row.ToArray();
        }).ToArray();
        caption ??= $"tensor [{string.Join(", ", shape)}] {dtype.TorchName().Replace("torch.", "")}";
        return Build(header, cells, caption, rowHeaders: true);
    }

    /// <summary>Indices to show: all, or the first and last few with -1 for the gap.</summary>
    private static long[] Pick(long n, int max)
    {
        if (n <= max) return Enumerable.Range(0, (int)n).Select(i => (long)i).ToArray();
        var head = (max + 1) / 2;
        var tail = max - head;
        return Enumerable.Range(0, head).Select(i => (long)i).Append(-1).Concat(Enumerable.Range(0, tail).Select(i => n - tail + i)).ToArray();
    }

    private readonly record struct TableCell(string Text, bool Numeric);

    private static TableCell ToCell(object? value) => value switch
    {
        null => new("", false),
        double d => new(FormatDouble(d), true),
        float f => new(FormatDouble(f), true),
        decimal m => new(m.ToString(CultureInfo.InvariantCulture), true),
        int or long or short or byte or uint or ulong => new(Convert.ToString(value, CultureInfo.InvariantCulture) ?? "", true),
        IFormattable x => new(x.ToString(null, CultureInfo.InvariantCulture), false),
        _ => new(value.ToString() ?? "", false),
    };

    private static string FormatDouble(double d) =>
        double.IsNaN(d) ? "–" : double.IsInfinity(d) ? (d > 0 ? "∞" : "−∞") : d.ToString("0.####", CultureInfo.InvariantCulture);

    private static Display Build(IReadOnlyList<string> header, TableCell[][] rows, string? caption, bool rowHeaders)
    {
        var html = new StringBuilder("<table class=\"mn-table\">");
        if (caption is not null) html.Append("<caption>").Append(WebUtility.HtmlEncode(caption)).Append("</caption>");
        html.Append("<thead><tr>");
        foreach (var h in header) html.Append("<th>").Append(WebUtility.HtmlEncode(h)).Append("</th>");
        html.Append("</tr></thead><tbody>");
        foreach (var row in rows)
        {
            html.Append("<tr>");
            for (var j = 0; j < row.Length; j++)
            {
                var tag = rowHeaders && j == 0 ? "th" : "td";
                html.Append('<').Append(tag);
                if (row[j].Numeric) html.Append(" style=\"text-align:right\"");
                html.Append('>').Append(WebUtility.HtmlEncode(row[j].Text)).Append("</").Append(tag).Append('>');
            }
            html.Append("</tr>");
        }
        html.Append("</tbody></table>");

        var widths = header.Select((h, j) => Math.Max(h.Length, rows.Length == 0 ? 0 : rows.Max(r => r[j].Text.Length))).ToArray();
        var text = new StringBuilder();
        if (caption is not null) text.Append(caption).Append('\n');
        text.Append(string.Join("  ", header.Select((h, j) => h.PadRight(widths[j]))).TrimEnd()).Append('\n');
        text.Append(string.Join("  ", widths.Select(w => new string('-', w)))).Append('\n');
        foreach (var row in rows)
            text.Append(string.Join("  ", row.Select((c, j) => c.Numeric ? c.Text.PadLeft(widths[j]) : c.Text.PadRight(widths[j]))).TrimEnd()).Append('\n');
        return new Display(html.ToString(), text.ToString().TrimEnd('\n'));
    }
}
