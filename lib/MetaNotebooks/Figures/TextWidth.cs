using System.Text;
using System.Text.RegularExpressions;

namespace MetaNotebooks.Figures;

/// <summary>
/// How wide a line of figure text draws, estimated without a browser, and how to wrap or shrink text to a width.
/// The estimate is deliberately generous: per-character widths of DejaVu Sans (what Chromium draws Plotly's
/// "Open Sans, verdana, arial, sans-serif" with on a machine without Open Sans; wider than Open Sans and Arial,
/// close to Verdana), plus 5%. A title that fits by this estimate fits in any of those fonts (checked against
/// Chromium's own measurement in the tests).
/// </summary>
public static partial class TextWidth
{
    private const double Safety = 1.05;

    /// <summary>Estimated width in pixels of one line of text (Plotly's HTML-like tags such as &lt;b&gt; are not counted).</summary>
    public static double Estimate(string line, double fontSize)
    {
        double em = 0;
        foreach (var rune in StripTags(line).EnumerateRunes()) em += Em(rune);
        return em * fontSize * Safety;
    }

    /// <summary>The lines of a Plotly text: "&lt;br&gt;" separates them.</summary>
    public static IReadOnlyList<string> Lines(string text) => LineBreak().Split(text);

    /// <summary>
    /// Text made to fit `maxWidth` pixels: one line at `fontSize` if it fits, else slightly smaller, else wrapped at spaces
    /// onto two lines (shrinking down to `minFontSize`), else as many lines as it takes at `minFontSize` (a word longer
    /// than the width is broken). Lines are joined with "&lt;br&gt;", as Plotly draws them.
    /// </summary>
    public static (string Text, int Lines, double FontSize) Fit(string text, double maxWidth, double fontSize, double minFontSize)
    {
        if (maxWidth <= 0) throw new ArgumentOutOfRangeException(nameof(maxWidth), maxWidth, "text needs a positive width to fit into");
        if (minFontSize <= 0 || minFontSize > fontSize) throw new ArgumentOutOfRangeException(nameof(minFontSize), minFontSize, $"need 0 < minFontSize ≤ fontSize ({fontSize})");
        var given = Lines(text);
        // First choice: the text as written, a little smaller if need be (at most 2 px: a title should stay a title).
        for (var f = fontSize; f >= Math.Max(minFontSize, fontSize - 2); f--)
            if (given.All(l => Estimate(l, f) <= maxWidth)) return (text, given.Count, f);
        // Then two lines per written line at most, shrinking to the minimum; then as many lines as needed.
        for (var f = fontSize; f >= minFontSize; f--)
        {
            var wrapped = given.SelectMany(l => Wrap(l, maxWidth, f)).ToList();
            if (wrapped.Count <= 2 * given.Count && wrapped.All(l => Estimate(l, f) <= maxWidth)) return (string.Join("<br>", wrapped), wrapped.Count, f);
        }
        var lines = given.SelectMany(l => Wrap(l, maxWidth, minFontSize)).ToList();
        return (string.Join("<br>", lines), lines.Count, minFontSize);
    }

    /// <summary>Greedy word wrap at spaces; a word wider than the line on its own is cut into pieces that fit.</summary>
    public static IReadOnlyList<string> Wrap(string line, double maxWidth, double fontSize)
    {
        var lines = new List<string>();
        var current = new StringBuilder();
        foreach (var word in line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = current.Length == 0 ? word : current + " " + word;
            if (Estimate(candidate, fontSize) <= maxWidth)
            {
                current.Clear().Append(candidate);
                continue;
            }
            if (current.Length > 0) lines.Add(current.ToString());
            current.Clear();
            // A single word too wide for a line: cut it (rare: a long path or id).
            var rest = word;
            while (Estimate(rest, fontSize) > maxWidth && rest.Length > 1)
            {
                var n = rest.Length - 1;
                while (n > 1 && Estimate(rest[..n], fontSize) > maxWidth) n--;
                lines.Add(rest[..n]);
                rest = rest[n..];
            }
            current.Append(rest);
        }
        if (current.Length > 0 || lines.Count == 0) lines.Add(current.ToString());
        return lines;
    }

    private static string StripTags(string line) => Tag().Replace(line, "").Replace("&amp;", "&").Replace("&lt;", "<").Replace("&gt;", ">");

    /// <summary>Advance width in em (DejaVu Sans, measured in Chromium), rounded up per class of characters.</summary>
    private static double Em(Rune r)
    {
        if (r.Value > 127)
        {
            // Combining marks and sub/superscript letters are narrow; arrows, operators, dashes, ellipses and the rest
            // get the width of the widest common symbols.
            if (Rune.GetUnicodeCategory(r) is System.Globalization.UnicodeCategory.NonSpacingMark) return 0;
            return r.Value is >= 0x1D2C and <= 0x1D6A or >= 0x2070 and <= 0x209C ? 0.55 : r.Value == 0x2030 ? 1.35 : r.Value is 0x2026 or 0x2014 ? 1.05 : 0.85;
        }
        var c = (char)r.Value;
        return c switch
        {
            ' ' or ',' or '.' or ':' or ';' or '\'' or '|' or 'i' or 'j' or 'l' or 'I' or 'J' => 0.34,
            '!' or '(' or ')' or '[' or ']' or 'f' or 'r' or 't' or '-' or '/' or '\\' => 0.42,
            'm' or 'w' or 'M' or 'W' or '@' or '%' => 1.0,
            '+' or '<' or '=' or '>' or '^' or '~' or '#' => 0.84,
            >= 'A' and <= 'Z' => 0.79,
            _ => 0.64,
        };
    }

    [GeneratedRegex("<br\\s*/?>", RegexOptions.IgnoreCase)]
    private static partial Regex LineBreak();

    [GeneratedRegex("<[^>]*>")]
    private static partial Regex Tag();
}
