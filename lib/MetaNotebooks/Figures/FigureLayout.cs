namespace MetaNotebooks.Figures;

/// <summary>Tick spacing chosen for one axis: a number (linear: every dtick units from tick0; log: every dtick decades) or Plotly's "D2" (log: 1, 2, 5 of each decade).</summary>
internal readonly record struct AxisTicks(double? DTick, string? DTickText, double? Tick0);

/// <summary>
/// Where the parts of a figure go, in pixels of <see cref="Figure.Width"/>, so that nothing clips or overlaps:
/// the title is shrunk a little or wrapped to the figure's width (the figure grows by the extra lines), subplot titles
/// to their plot's width, the gaps between subplots hold the tick labels and axis titles on each side plus the subplot
/// title of the plot below, integer data gets integer ticks and log axes get as many tick labels as their length holds.
/// Computed when the figure is serialised, from its settings and traces at that moment.
/// </summary>
internal sealed class FigureLayout
{
    public const double TitleFontSize = 17, MinTitleFontSize = 12, SubplotTitleFontSize = 14, MinSubplotTitleFontSize = 11, LegendFontSize = 12;
    public const double LineHeight = 1.25;
    /// <summary>Pixels from the top of the figure to the top of the title's first line.</summary>
    public const double TitleTop = 16;
    /// <summary>Room kept between the title and the figure's edges.</summary>
    public const double TitlePadding = 15;
    private const double Left = 60, Right = 20;

    public int Height { get; private init; }
    public double MarginLeft => Left;
    public double MarginRight => Right;
    public double MarginTop { get; private init; }
    public double MarginBottom { get; private init; }
    public (string Text, double FontSize)? Title { get; private init; }
    public IReadOnlyList<(string Text, double FontSize)> SubplotTitles { get; private init; } = [];
    /// <summary>Per subplot (row-major), its axes' domains in Plotly's paper coordinates (0…1 of the plot area).</summary>
    public IReadOnlyList<(double Start, double End)> XDomains { get; private init; } = [];
    public IReadOnlyList<(double Start, double End)> YDomains { get; private init; } = [];
    public IReadOnlyList<AxisTicks?> XTicks { get; private init; } = [];
    public IReadOnlyList<AxisTicks?> YTicks { get; private init; } = [];
    /// <summary>Where a bottom legend's top goes (paper coordinates: below 0 is under the plot area).</summary>
    public double BottomLegendY { get; private init; }

    public static FigureLayout Of(Figure figure, IReadOnlyList<(Trace Trace, int Row, int Column)> traces, int? width = null, int? height = null)
    {
        int rows = figure.Rows, columns = figure.Columns;
        var w = (double)(width ?? figure.Width);
        var legend = LegendWidth(figure, traces);

        // Columns: each gap holds the y tick labels and title of the column to its right.
        var plotWidth = Math.Max(50, w - Left - Right - legend);
        var columnGaps = Enumerable.Range(2, columns - 1).Select(c => Enumerable.Range(1, rows).Max(r => YBlock(figure.Y(r, c)))).ToArray();
        var columnWidth = Math.Max(10, (plotWidth - columnGaps.Sum()) / columns);

        // Subplot titles, fitted to their plot's width; each row's block is as tall as its tallest title.
        var titles = (figure.SubplotTitles ?? []).Select(t => TextWidth.Fit(t, Math.Max(10, columnWidth - 6), SubplotTitleFontSize, MinSubplotTitleFontSize)).ToArray();
        var titleBlocks = new double[rows + 1];
        for (var i = 0; i < titles.Length; i++)
            titleBlocks[i / columns + 1] = Math.Max(titleBlocks[i / columns + 1], titles[i].Lines * titles[i].FontSize * LineHeight + 6);
        var oneLineTitleBlock = SubplotTitleFontSize * LineHeight + 6;

        (string Text, int Lines, double FontSize)? title = figure.Title is { Length: > 0 } t
            ? TextWidth.Fit(t, Math.Max(10, w - 2 * TitlePadding), TitleFontSize, MinTitleFontSize)
            : null;
        var titleBlock = title is { } tt ? tt.Lines * tt.FontSize * LineHeight + 10 : 0;

        // A legend at the bottom goes under the bottom row's x axis block, in rows of entries as wide as the figure.
        var bottomAxes = Enumerable.Range(1, columns).Max(c => XBlock(figure.X(rows, c)));
        var legendRows = Math.Max(1, (int)Math.Ceiling(traces.Where(tr => tr.Trace.InLegend).Sum(tr => TextWidth.Estimate(tr.Trace.Name ?? "", LegendFontSize) + 45) / (w - 40)));
        var bottom = figure.Legend == Legend.Bottom ? bottomAxes + 22 * legendRows + 8 : 50;
        // Extra lines make the figure taller rather than squeezing its plots.
        var extra = (title is { Lines: > 1 } ? titleBlock - (TitleFontSize * LineHeight + 10) : 0)
                    + titleBlocks.Skip(1).Sum(b => Math.Max(0, b - oneLineTitleBlock))
                    + (figure.Legend == Legend.Bottom ? 22 * (legendRows - 1) : 0);
        var h = (height ?? figure.Height) + (int)Math.Ceiling(extra);

        var top = 30 + titleBlock + titleBlocks[1];
        var plotHeight = Math.Max(50, h - top - bottom);
        var rowGaps = Enumerable.Range(1, rows - 1).Select(r => Enumerable.Range(1, columns).Max(c => XBlock(figure.X(r, c))) + titleBlocks[r + 1] + 4).ToArray();
        var rowHeight = Math.Max(10, (plotHeight - rowGaps.Sum()) / rows);

        var xDomains = new (double, double)[rows * columns];
        var yDomains = new (double, double)[rows * columns];
        var xTicks = new AxisTicks?[rows * columns];
        var yTicks = new AxisTicks?[rows * columns];
        for (var r = 1; r <= rows; r++)
            for (var c = 1; c <= columns; c++)
            {
                var k = (r - 1) * columns + c - 1;
                var left = (c - 1) * columnWidth + columnGaps.Take(c - 1).Sum();
                var above = (r - 1) * rowHeight + rowGaps.Take(r - 1).Sum();
                xDomains[k] = (Fraction(left / plotWidth), Fraction((left + columnWidth) / plotWidth));
                yDomains[k] = (Fraction(1 - (above + rowHeight) / plotHeight), Fraction(1 - above / plotHeight));
                var onPlot = traces.Where(p => p.Row == r && p.Column == c).Select(p => p.Trace).ToArray();
                xTicks[k] = Ticks(figure.X(r, c), onPlot.SelectMany(tr => tr.XValues), columnWidth);
                yTicks[k] = Ticks(figure.Y(r, c), onPlot.SelectMany(tr => tr.YValues), rowHeight);
            }
        return new FigureLayout
        {
            Height = h,
            BottomLegendY = Math.Round(-(bottomAxes + 2) / plotHeight, 4),
            MarginTop = Math.Round(top, 1),
            MarginBottom = bottom,
            Title = title is { } f ? (f.Text, f.FontSize) : null,
            SubplotTitles = titles.Select(s => (s.Text, s.FontSize)).ToArray(),
            XDomains = xDomains,
            YDomains = yDomains,
            XTicks = xTicks,
            YTicks = yTicks,
        };
    }

    /// <summary>Pixels left of a plot taken by its y axis: tick labels, then the title outside them.</summary>
    private static double YBlock(Axis y) => !y.Visible ? 12 : (y.ShowTickLabels ? 46 : 8) + (y.Title is null ? 0 : 24) + 10;

    /// <summary>Pixels below a plot taken by its x axis (measured on Plotly's drawings: the title sits ~50 px under the axis line).</summary>
    private static double XBlock(Axis x) => !x.Visible ? 8 : (x.ShowTickLabels, x.Title is not null) switch
    {
        (true, true) => 64,
        (true, false) => 28,
        (false, true) => 40,
        _ => 8,
    };

    /// <summary>A legend on the right takes its widest entry (symbol and padding included) from the plots' width.</summary>
    private static double LegendWidth(Figure figure, IReadOnlyList<(Trace Trace, int Row, int Column)> traces)
    {
        var entries = traces.Where(t => t.Trace.InLegend).Select(t => t.Trace.Name ?? "").ToArray();
        var shown = figure.Legend == Legend.Right || (figure.Legend == Legend.Auto && entries.Length > 1);
        return shown && entries.Length > 0 ? entries.Max(n => TextWidth.Estimate(n, LegendFontSize)) + 50 : 0;
    }

    /// <summary>
    /// Integer data (steps, ways, shots) over a short span gets integer ticks (Plotly would put some at 0.5); a log axis
    /// gets one label per decade when its decades are short, 1-2-5 when they are middling, Plotly's choice when long.
    /// </summary>
    private static AxisTicks? Ticks(Axis axis, IEnumerable<double> data, double pixels)
    {
        if (!axis.Visible || !axis.ShowTickLabels) return null;
        var values = data.Where(double.IsFinite).ToArray();
        if (axis.Log)
        {
            var positive = values.Where(v => v > 0).ToArray();
            var (lo, hi) = axis.Range ?? (positive.Length > 0 ? (positive.Min(), positive.Max()) : (0, 0));
            if (lo <= 0 || hi <= lo) return null;
            var decades = Math.Log10(hi / lo);
            var perDecade = pixels / decades;
            if (perDecade < 90) return new AxisTicks(Math.Max(1, Math.Ceiling(decades * 22 / pixels)), null, null);
            return perDecade < 260 ? new AxisTicks(null, "D2", null) : null;
        }
        var integer = axis.Integer ?? (values.Length > 1 && values.All(v => v == Math.Round(v)) && values.Distinct().Count() > 1);
        if (!integer || values.Length == 0 && axis.Range is null) return null;
        var (min, max) = axis.Range ?? (values.Min(), values.Max());
        var span = max - min;
        if (span <= 0) return new AxisTicks(1, null, 0);
        // The smallest whole step of 1, 2, 5, 10, 20, 50, … that leaves at least 30 px per tick and at most 12 ticks
        // (at least one step on a very short axis).
        var most = Math.Max(1, Math.Min(12, pixels / 30));
        for (var power = 1.0; ; power *= 10)
            foreach (var step in new[] { power, 2 * power, 5 * power })
                if (span / step <= most) return new AxisTicks(step, null, 0);
    }

    private static double Fraction(double v) => Math.Round(Math.Clamp(v, 0, 1), 4);
}
