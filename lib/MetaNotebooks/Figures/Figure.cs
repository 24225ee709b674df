using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace MetaNotebooks.Figures;

public enum Legend { Auto, Right, Bottom, Inside, Hidden }

public enum BarMode { Group, Stack, Overlay }

/// <summary>Where an HTML figure gets plotly.js from.</summary>
public enum PlotlyJsSource
{
    /// <summary>A script tag to the pinned npm package on a CDN (small output; needs the internet to draw).</summary>
    Cdn,
    /// <summary>plotly.js copied into the page (self-contained, about 4.8 MB).</summary>
    Inline,
    /// <summary>A file:// script tag to the local npm copy (for pages rendered on this machine).</summary>
    LocalFile,
}

/// <summary>One axis of one subplot. Unset options keep Plotly's defaults.</summary>
public sealed class Axis
{
    public string? Title { get; set; }
    public (double Min, double Max)? Range { get; set; }
    public bool Log { get; set; }
    public bool? ShowGrid { get; set; }
    public bool? ZeroLine { get; set; }
    public bool ShowTickLabels { get; set; } = true;
    public bool Visible { get; set; } = true;
    /// <summary>Largest value at the start (matrix rows top to bottom, images).</summary>
    public bool Reversed { get; set; }
    /// <summary>On a y axis: one unit of y is as long as one unit of x (square pixels, true circles).</summary>
    public bool EqualAspect { get; set; }
    /// <summary>A d3 format for tick labels, e.g. ".0%" or ".2f".</summary>
    public string? TickFormat { get; set; }
    /// <summary>Grow the figure's margin to fit long tick labels (category names) instead of clipping them.</summary>
    public bool AutoMargin { get; set; }
    /// <summary>
    /// Ticks only at whole numbers (steps, iterations, ways, shots: never "2.5 gradient steps"). Null (the default)
    /// decides from the data: an axis whose values are all whole numbers gets whole-number ticks.
    /// </summary>
    public bool? Integer { get; set; }

    internal string Anchor = "x";
    internal string? Matches;
    internal string? ScaleAnchor;

    internal void WriteTo(PlotlyJsonWriter w, string key, (double Start, double End) domain, AxisTicks? ticks)
    {
        w.Start(key);
        w.String("anchor", Anchor);
        w.Json.WritePropertyName("domain");
        w.Numbers([domain.Start, domain.End], 4);
        if (Title is not null)
        {
            w.Start("title");
            w.String("text", Title);
            w.End();
        }
        if (Log) w.String("type", "log");
        if (ticks is { } t)
        {
            if (t.DTick is { } d) w.Number("dtick", d);
            else w.String("dtick", t.DTickText);
            if (t.Tick0 is { } t0) w.Number("tick0", t0);
        }
        if (Range is { } r)
        {
            // A log axis takes its range in powers of ten.
            var (lo, hi) = Log ? (Math.Log10(r.Min), Math.Log10(r.Max)) : (r.Min, r.Max);
            w.Json.WritePropertyName("range");
            w.Numbers(Reversed ? [hi, lo] : [lo, hi]);
        }
        else if (Reversed) w.String("autorange", "reversed");
        if (ShowGrid is { } g) w.Bool("showgrid", g);
        if (ZeroLine is { } z) w.Bool("zeroline", z);
        if (!ShowTickLabels) w.Bool("showticklabels", false);
        if (!Visible) w.Bool("visible", false);
        w.String("tickformat", TickFormat);
        if (AutoMargin) w.Bool("automargin", true);
        w.String("matches", Matches);
        if (EqualAspect && ScaleAnchor is not null)
        {
            w.String("scaleanchor", ScaleAnchor);
            w.Number("scaleratio", 1);
        }
        w.End();
    }
}

/// <summary>
/// A Plotly figure: traces on a grid of subplots, with titles, axis labels and a legend. Serialises to
/// Plotly figure JSON (<see cref="ToJson"/>), an HTML snippet (<see cref="ToHtml"/>) and a PNG drawn by
/// headless Chromium (<see cref="SavePng"/>). Displayed in a notebook, it shows as all three.
/// </summary>
[TypeFormatterSource(typeof(FigureFormatterSource), PreferredMimeTypes = ["text/html"])]
public sealed class Figure
{
    private readonly List<(Trace Trace, int Row, int Column)> traces = [];
    private readonly List<Annotation> annotations = [];
    private readonly Axis[] xAxes;
    private readonly Axis[] yAxes;
    private readonly IReadOnlyList<string>? subplotTitles;

    /// <summary>A figure with one plot.</summary>
    public Figure(string? title = null) : this(1, 1, false, false, null) => Title = title;

    private Figure(int rows, int columns, bool sharedX, bool sharedY, IReadOnlyList<string>? titles)
    {
        if (rows < 1 || columns < 1) throw new ArgumentOutOfRangeException(nameof(rows), "A figure needs at least one row and one column.");
        Rows = rows;
        Columns = columns;
        subplotTitles = titles;
        xAxes = new Axis[rows * columns];
        yAxes = new Axis[rows * columns];
        // Where each plot goes is decided when the figure is written (FigureLayout), from its titles and axes then.
        for (var r = 1; r <= rows; r++)
            for (var c = 1; c <= columns; c++)
            {
                var k = Index(r, c);
                var (xName, yName) = AxisNames(r, c);
                xAxes[k] = new Axis { Anchor = yName };
                yAxes[k] = new Axis { Anchor = xName, ScaleAnchor = xName };
                // Shared axes as plotly's make_subplots: x shared down each column (labels on the bottom row),
                // y shared along each row (labels on the first column).
                if (sharedX && r < rows)
                {
                    xAxes[k].Matches = AxisNames(rows, c).X;
                    xAxes[k].ShowTickLabels = false;
                }
                if (sharedY && c > 1)
                {
                    yAxes[k].Matches = AxisNames(r, 1).Y;
                    yAxes[k].ShowTickLabels = false;
                }
            }
        Height = 320 * rows + (rows == 1 ? 130 : 80);
        Width = columns == 1 ? 720 : Math.Min(1100, 380 * columns + 80);
    }

    /// <summary>A grid of plots. With shared axes, zooming one zooms the others, and inner tick labels are dropped.</summary>
    public static Figure Subplots(int rows, int columns, bool sharedX = false, bool sharedY = false, IReadOnlyList<string>? titles = null, string? title = null)
    {
        if (titles is not null && titles.Count > rows * columns)
            throw new ArgumentException($"{titles.Count} subplot titles for {rows * columns} subplots.", nameof(titles));
        return new Figure(rows, columns, sharedX, sharedY, titles) { Title = title };
    }

    /// <summary>Drawn at the top, centred; shrunk a little or wrapped onto more lines when wider than the figure (the figure then grows).</summary>
    public string? Title { get; set; }
    /// <summary>
    /// Size in pixels of the PNG (and the largest width of the HTML figure, which follows the page below it). Titles
    /// are fitted to this width. The height is that of a figure whose titles take one line each; wrapped titles add theirs.
    /// </summary>
    public int Width { get; set; }
    public int Height { get; set; }
    /// <summary>The subplot titles given to <see cref="Subplots"/> (fitted to their plot's width when written).</summary>
    public IReadOnlyList<string>? SubplotTitles => subplotTitles;
    /// <summary>The height the figure is drawn with: <see cref="Height"/> plus the lines its wrapped titles need.</summary>
    public int DrawnHeight => FigureLayout.Of(this, traces).Height;
    public Legend Legend { get; set; } = Legend.Auto;
    public BarMode? BarMode { get; set; }
    public int Rows { get; }
    public int Columns { get; }
    public IReadOnlyList<Trace> Traces => traces.Select(t => t.Trace).ToArray();

    /// <summary>The x axis of the first (or only) plot.</summary>
    public Axis XAxis => X(1, 1);
    public Axis YAxis => Y(1, 1);
    public Axis X(int row, int column) => xAxes[Index(row, column)];
    public Axis Y(int row, int column) => yAxes[Index(row, column)];

    /// <summary>Adds a trace to the plot at (row, column), both counted from 1. Returns the figure, to chain.</summary>
    public Figure Add(Trace trace, int row = 1, int column = 1)
    {
        Index(row, column);
        trace.Configure(this, row, column);
        traces.Add((trace, row, column));
        return this;
    }

    /// <summary>Adds a text label; by default at data coordinates of the first plot.</summary>
    public Figure AddAnnotation(Annotation annotation)
    {
        annotations.Add(annotation);
        return this;
    }

    /// <summary>Plotly's names of the axes of subplot (row, column): "x", "y" for the first, then "x2", "y2", ….</summary>
    public (string X, string Y) AxisNames(int row, int column)
    {
        var k = Index(row, column) + 1;
        return k == 1 ? ("x", "y") : ($"x{k}", $"y{k}");
    }

    private int Index(int row, int column)
    {
        if (row < 1 || row > Rows || column < 1 || column > Columns)
            throw new ArgumentOutOfRangeException(nameof(row), $"Subplot ({row}, {column}) is outside the {Rows}×{Columns} grid (rows and columns count from 1).");
        return (row - 1) * Columns + column - 1;
    }

    /// <summary>Plotly figure JSON {"data": [...], "layout": {...}}: the application/vnd.plotly.v1+json payload.</summary>
    public string ToJson(bool indented = false) => ToJson(indented, null, null);

    private string ToJson(bool indented, int? width, int? height)
    {
        var layout = FigureLayout.Of(this, traces, width, height);
        using var w = new PlotlyJsonWriter(indented);
        w.Start();
        w.StartArray("data");
        foreach (var (trace, row, column) in traces)
        {
            var (x, y) = AxisNames(row, column);
            w.Start();
            trace.Write(w, x, y, layout.YDomains[Index(row, column)]);
            w.End();
        }
        w.EndArray();
        WriteLayout(w, layout, width);
        w.End();
        return w.ToString();
    }

    private void WriteLayout(PlotlyJsonWriter w, FigureLayout layout, int? width)
    {
        w.Start("layout");
        if (layout.Title is { } title)
        {
            // Anchored by its top in pixels from the figure's top, so that a wrapped title grows downwards into the
            // margin made for it.
            w.Start("title");
            w.String("text", title.Text);
            w.Number("x", 0.5);
            w.String("xanchor", "center");
            w.String("yref", "container");
            w.Number("y", 1 - FigureLayout.TitleTop / layout.Height, 5);
            w.String("yanchor", "top");
            w.Start("font");
            w.Number("size", title.FontSize);
            w.End();
            w.End();
        }
        if (width is { } pw) w.Number("width", pw);
        w.Number("height", layout.Height);
        w.Start("margin");
        w.Number("l", layout.MarginLeft);
        w.Number("r", layout.MarginRight);
        w.Number("t", layout.MarginTop);
        w.Number("b", layout.MarginBottom);
        w.End();
        w.String("plot_bgcolor", "#ffffff");
        w.String("paper_bgcolor", "#ffffff");
        switch (Legend)
        {
            case Legend.Hidden:
                w.Bool("showlegend", false);
                break;
            case Legend.Bottom:
                w.Start("legend");
                w.String("orientation", "h");
                w.Number("x", 0.5);
                w.String("xanchor", "center");
                // Under the bottom row's tick labels and axis title, in the margin made for it.
                w.Number("y", layout.BottomLegendY, 4);
                w.String("yanchor", "top");
                w.End();
                break;
            case Legend.Inside:
                w.Start("legend");
                w.Number("x", 0.99);
                w.String("xanchor", "right");
                w.Number("y", 0.99);
                w.String("yanchor", "top");
                w.String("bgcolor", "rgba(255,255,255,0.8)");
                w.End();
                break;
            case Legend.Right:
                w.Bool("showlegend", true);
                break;
        }
        if (BarMode is { } mode) w.String("barmode", mode.ToString().ToLowerInvariant());
        for (var r = 1; r <= Rows; r++)
            for (var c = 1; c <= Columns; c++)
            {
                var k = Index(r, c);
                var suffix = k == 0 ? "" : (k + 1).ToString(CultureInfo.InvariantCulture);
                xAxes[k].WriteTo(w, "xaxis" + suffix, layout.XDomains[k], layout.XTicks[k]);
                yAxes[k].WriteTo(w, "yaxis" + suffix, layout.YDomains[k], layout.YTicks[k]);
            }
        var all = new List<Annotation>();
        for (var i = 0; i < layout.SubplotTitles.Count; i++)
        {
            var (x, y) = (layout.XDomains[i], layout.YDomains[i]);
            var (text, size) = layout.SubplotTitles[i];
            all.Add(new Annotation(text, Math.Round((x.Start + x.End) / 2, 4), y.End)
            {
                XRef = "paper", YRef = "paper", YAnchor = "bottom", FontSize = size,
            });
        }
        all.AddRange(annotations);
        if (all.Count > 0)
        {
            w.StartArray("annotations");
            foreach (var a in all) a.Write(w);
            w.EndArray();
        }
        w.End();
    }

    /// <summary>A stable id for the HTML element: derived from the content, so the same figure gives the same HTML.</summary>
    private string ElementId(string json)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(json)))[..12];
        return "mn-figure-" + hash;
    }

    /// <summary>
    /// A &lt;div&gt; and a script that draws the figure with plotly.js, loading plotly.js once per page.
    /// With <paramref name="pngFallbackBase64"/>, the PNG shows until (or unless) plotly.js draws, so viewers
    /// that run no scripts (GitHub) still show the figure.
    /// </summary>
    public string ToHtml(PlotlyJsSource source = PlotlyJsSource.Cdn, string? pngFallbackBase64 = null)
    {
        var json = ToJson();
        var id = ElementId(json);
        var height = DrawnHeight;
        var sb = new StringBuilder();
        if (source == PlotlyJsSource.Inline)
            sb.Append("<script type=\"text/javascript\">").Append(File.ReadAllText(PlotlyJs.RequireLocal())).Append("</script>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<div id=\"{id}\" class=\"mn-figure\" style=\"width:100%;max-width:{Width}px;height:{height}px\">");
        if (pngFallbackBase64 is not null)
            sb.Append(CultureInfo.InvariantCulture, $"<img src=\"data:image/png;base64,{pngFallbackBase64}\" width=\"{Width}\" height=\"{height}\" alt=\"{System.Net.WebUtility.HtmlEncode(Title ?? "figure")}\" style=\"max-width:100%;height:auto\"/>");
        sb.Append("</div>\n");
        var src = source switch
        {
            PlotlyJsSource.LocalFile => new Uri(PlotlyJs.RequireLocal()).AbsoluteUri,
            _ => PlotlyJs.CdnUrl,
        };
        sb.Append("<script type=\"text/javascript\">\n(function () {\n");
        sb.Append("  var figure = ").Append(EscapeForScript(json)).Append(";\n");
        sb.Append(CultureInfo.InvariantCulture, $"  var draw = function () {{ var el = document.getElementById(\"{id}\"); if (!el) return; el.innerHTML = \"\"; Plotly.newPlot(el, figure.data, figure.layout, {{responsive: true, displaylogo: false}}); }};\n");
        sb.Append("  if (window.Plotly) { draw(); return; }\n");
        sb.Append("  var pending = document.querySelector(\"script[data-mn-plotly]\");\n");
        sb.Append("  if (pending) { pending.addEventListener(\"load\", draw); return; }\n");
        sb.Append("  var s = document.createElement(\"script\");\n");
        sb.Append("  s.setAttribute(\"data-mn-plotly\", \"\");\n");
        sb.Append(CultureInfo.InvariantCulture, $"  s.src = \"{src}\";\n");
        sb.Append("  s.onload = draw;\n");
        sb.Append("  document.head.appendChild(s);\n");
        sb.Append("})();\n</script>");
        return sb.ToString();
    }

    /// <summary>A whole HTML page showing the figure.</summary>
    public string ToHtmlPage(PlotlyJsSource source = PlotlyJsSource.Cdn) =>
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>" + System.Net.WebUtility.HtmlEncode(Title ?? "figure") +
        "</title>\n</head>\n<body>\n" + ToHtml(source) + "\n</body>\n</html>\n";

    /// <summary>Writes <see cref="ToHtmlPage"/> to a file (temp file, then rename).</summary>
    public void SaveHtml(string path, PlotlyJsSource source = PlotlyJsSource.Cdn) => Results.AtomicFile.WriteAllText(path, ToHtmlPage(source));

    /// <summary>"&lt;/script&gt;" inside a string would end the script element early.</summary>
    private static string EscapeForScript(string json) => json.Replace("</", "<\\/");

    /// <summary>
    /// Draws the figure with plotly.js in headless Chromium and writes a PNG of width × height pixels
    /// (default: <see cref="Width"/> × <see cref="Height"/>; wrapped titles add their lines to the height, see
    /// <see cref="DrawnHeight"/>). Written to a temp file, then renamed. Chromium and plotly.js come from `./mn setup`.
    /// </summary>
    public void SavePng(string path, int? width = null, int? height = null)
    {
        int w = width ?? Width, h = FigureLayout.Of(this, traces, w, height).Height;
        if (w < 16 || h < 16 || w > 8000 || h > 8000) throw new ArgumentOutOfRangeException(nameof(width), $"A PNG of {w}×{h} pixels: use 16…8000.");
        var plotly = PlotlyJs.RequireLocal();
        var page =
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">" +
            "<style>html,body{margin:0;padding:0;background:#ffffff;overflow:hidden}</style>" +
            $"<script src=\"{new Uri(plotly).AbsoluteUri}\"></script></head><body>" +
            $"<div id=\"figure\" style=\"width:{w}px;height:{h}px\"></div>" +
            "<script>var f = " + EscapeForScript(ToJson(false, w, height)) + ";" +
            "Plotly.newPlot('figure', f.data, f.layout, {staticPlot: true});</script></body></html>";
        HeadlessBrowser.Screenshot(page, path, w, h);
    }

    /// <summary>The PNG of <see cref="SavePng"/> as bytes.</summary>
    public byte[] ToPng(int? width = null, int? height = null)
    {
        var dir = Directory.CreateTempSubdirectory("mn-png-");
        try
        {
            var file = Path.Combine(dir.FullName, "figure.png");
            SavePng(file, width, height);
            return File.ReadAllBytes(file);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>A one-line summary, so that printing a figure says what it holds.</summary>
    public override string ToString() =>
        $"Figure \"{Title ?? ""}\": {traces.Count} trace(s) on {Rows}×{Columns} plot(s)";
}
