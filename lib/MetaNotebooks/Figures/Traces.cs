using System.Globalization;
using MetaNotebooks.Torch;

namespace MetaNotebooks.Figures;

/// <summary>One series drawn on one subplot. Set options with an object initialiser: <c>new Scatter(x, y) { Name = "loss" }</c>.</summary>
public abstract class Trace
{
    /// <summary>Legend entry; traces without a name stay out of the legend.</summary>
    public string? Name { get; init; }

    /// <summary>Overrides whether the trace appears in the legend (default: when it has a name).</summary>
    public bool? ShowLegend { get; init; }

    /// <summary>Traces of one group toggle together when the legend entry is clicked.</summary>
    public string? LegendGroup { get; init; }

    internal abstract void Write(PlotlyJsonWriter w, string xAxis, string yAxis);

    /// <summary>Writes the trace knowing where its plot lies vertically (paper coordinates): a colour bar spans its own plot.</summary>
    internal virtual void Write(PlotlyJsonWriter w, string xAxis, string yAxis, (double Start, double End) plotDomain) => Write(w, xAxis, yAxis);

    /// <summary>Whether Plotly lists the trace in the legend.</summary>
    internal bool InLegend => ShowLegend ?? Name is not null;

    /// <summary>The numbers the trace puts on its x axis (none for categories), for the layout's choice of ticks.</summary>
    internal virtual IEnumerable<double> XValues => [];

    /// <summary>The numbers the trace puts on its y axis.</summary>
    internal virtual IEnumerable<double> YValues => [];

    /// <summary>Lets a trace set up the axes of its subplot (an image grid hides them and fixes the aspect).</summary>
    internal virtual void Configure(Figure figure, int row, int column) { }

    private protected void WriteHeader(PlotlyJsonWriter w, string type, string xAxis, string yAxis)
    {
        w.String("type", type);
        w.String("name", Name);
        w.Bool("showlegend", ShowLegend ?? Name is not null);
        w.String("legendgroup", LegendGroup);
        w.String("xaxis", xAxis);
        w.String("yaxis", yAxis);
    }

    internal static double[] ToDoubles(IEnumerable<double> values) => values as double[] ?? values.ToArray();

    internal static double[] ToDoubles(IEnumerable<float> values) => values.Select(v => (double)v).ToArray();

    internal static void CheckSameLength(string what, int expected, int actual)
    {
        if (expected != actual)
            throw new ArgumentException($"{what} has {actual} values but x has {expected}.");
    }
}

public enum ScatterMode { Markers, Lines, LinesMarkers }

/// <summary>Points and/or lines, with optional error bars: Plotly's "scatter" trace.</summary>
public sealed class Scatter : Trace
{
    public Scatter(IEnumerable<double> x, IEnumerable<double> y)
    {
        X = ToDoubles(x);
        Y = ToDoubles(y);
        CheckSameLength("y", X.Count, Y.Count);
    }

    public Scatter(IEnumerable<float> x, IEnumerable<float> y) : this(ToDoubles(x), ToDoubles(y)) { }

    /// <summary>y against 0, 1, 2, …</summary>
    public Scatter(IEnumerable<double> y) : this(Enumerable.Range(0, ToDoubles(y).Length).Select(i => (double)i), y) { }

    public IReadOnlyList<double> X { get; }
    public IReadOnlyList<double> Y { get; }
    internal override IEnumerable<double> XValues => X;
    internal override IEnumerable<double> YValues => ErrorY is null ? Y : Y.Concat(Y.Zip(ErrorY, (y, e) => y - e)).Concat(Y.Zip(ErrorY, (y, e) => y + e));
    public ScatterMode Mode { get; init; } = ScatterMode.Lines;
    /// <summary>Any CSS colour; null lets Plotly cycle its palette.</summary>
    public string? Color { get; init; }
    public double? MarkerSize { get; init; }
    /// <summary>Plotly marker symbol: "circle", "square", "diamond", "x", "cross", "star", "triangle-up", …</summary>
    public string? Symbol { get; init; }
    /// <summary>Colour of the marker outline (e.g. to ring the query points of an episode).</summary>
    public string? MarkerLineColor { get; init; }
    public double? MarkerLineWidth { get; init; }
    /// <summary>"solid", "dash", "dot", "dashdot".</summary>
    public string? Dash { get; init; }
    public double? LineWidth { get; init; }
    public double? Opacity { get; init; }
    /// <summary>Symmetric error bars (± value) on y.</summary>
    public IReadOnlyList<double>? ErrorY { get; init; }
    /// <summary>Hover text per point.</summary>
    public IReadOnlyList<string>? Text { get; init; }

    internal override void Write(PlotlyJsonWriter w, string xAxis, string yAxis)
    {
        WriteHeader(w, "scatter", xAxis, yAxis);
        w.String("mode", Mode switch { ScatterMode.Markers => "markers", ScatterMode.Lines => "lines", _ => "lines+markers" });
        w.Numbers("x", X);
        w.Numbers("y", Y);
        if (Opacity is { } o) w.Number("opacity", o);
        if (Text is not null) w.Strings("text", Text);
        if (Mode != ScatterMode.Lines || Color is not null)
        {
            w.Start("marker");
            w.String("color", Color);
            if (MarkerSize is { } s) w.Number("size", s);
            w.String("symbol", Symbol);
            if (MarkerLineColor is not null || MarkerLineWidth is not null)
            {
                w.Start("line");
                w.String("color", MarkerLineColor);
                if (MarkerLineWidth is { } lw) w.Number("width", lw);
                w.End();
            }
            w.End();
        }
        if (Mode != ScatterMode.Markers)
        {
            w.Start("line");
            w.String("color", Color);
            w.String("dash", Dash);
            if (LineWidth is { } lw) w.Number("width", lw);
            w.End();
        }
        if (ErrorY is not null)
        {
            CheckSameLength("ErrorY", X.Count, ErrorY.Count);
            w.Start("error_y");
            w.String("type", "data");
            w.Numbers("array", ErrorY);
            w.Bool("visible", true);
            w.String("color", Color);
            w.End();
        }
    }
}

/// <summary>A filled band between two curves, e.g. a 95% confidence interval around a mean.</summary>
public sealed class Band : Trace
{
    public Band(IEnumerable<double> x, IEnumerable<double> lower, IEnumerable<double> upper)
    {
        X = ToDoubles(x);
        Lower = ToDoubles(lower);
        Upper = ToDoubles(upper);
        CheckSameLength("lower", X.Count, Lower.Count);
        CheckSameLength("upper", X.Count, Upper.Count);
    }

    public IReadOnlyList<double> X { get; }
    public IReadOnlyList<double> Lower { get; }
    public IReadOnlyList<double> Upper { get; }
    internal override IEnumerable<double> XValues => X;
    internal override IEnumerable<double> YValues => Lower.Concat(Upper);
    /// <summary>Colour of the band; give the colour of the line it surrounds (see <see cref="Palette"/>).</summary>
    public string Color { get; init; } = Palette.Get(0);
    public double Opacity { get; init; } = 0.2;

    internal override void Write(PlotlyJsonWriter w, string xAxis, string yAxis)
    {
        WriteHeader(w, "scatter", xAxis, yAxis);
        w.String("mode", "lines");
        // One closed polygon: along the upper curve, back along the lower one.
        w.Numbers("x", X.Concat(X.Reverse()));
        w.Numbers("y", Upper.Concat(Lower.Reverse()));
        w.String("fill", "toself");
        w.String("fillcolor", Palette.WithAlpha(Color, Opacity));
        w.Start("line");
        w.Number("width", 0);
        w.String("color", Palette.WithAlpha(Color, 0));
        w.End();
        w.String("hoverinfo", "skip");
    }
}

/// <summary>Bars over categories (or numbers), with optional error bars.</summary>
public sealed class Bar : Trace
{
    public Bar(IEnumerable<string> categories, IEnumerable<double> values)
    {
        Categories = categories.ToArray();
        Values = ToDoubles(values);
        CheckSameLength("values", Categories.Count, Values.Count);
    }

    public IReadOnlyList<string> Categories { get; }
    public IReadOnlyList<double> Values { get; }
    public string? Color { get; init; }
    public IReadOnlyList<double>? ErrorY { get; init; }
    /// <summary>Bars grow to the right instead of upwards.</summary>
    public bool Horizontal { get; init; }
    internal override IEnumerable<double> XValues => Horizontal ? Values : [];
    internal override IEnumerable<double> YValues => Horizontal ? [] : Values;
    /// <summary>Show each value on its bar with this d3 format, e.g. ".1f" or ".1%".</summary>
    public string? ValueFormat { get; init; }
    public double? Opacity { get; init; }

    internal override void Write(PlotlyJsonWriter w, string xAxis, string yAxis)
    {
        WriteHeader(w, "bar", xAxis, yAxis);
        w.Strings(Horizontal ? "y" : "x", Categories);
        w.Numbers(Horizontal ? "x" : "y", Values);
        if (Horizontal) w.String("orientation", "h");
        if (Opacity is { } o) w.Number("opacity", o);
        if (Color is not null)
        {
            w.Start("marker");
            w.String("color", Color);
            w.End();
        }
        if (ValueFormat is not null)
        {
            w.String("texttemplate", "%{" + (Horizontal ? "x" : "y") + ":" + ValueFormat + "}");
            w.String("textposition", "auto");
        }
        if (ErrorY is not null)
        {
            CheckSameLength("ErrorY", Categories.Count, ErrorY.Count);
            w.Start(Horizontal ? "error_x" : "error_y");
            w.String("type", "data");
            w.Numbers("array", ErrorY);
            w.Bool("visible", true);
            w.End();
        }
    }
}

public enum HistogramNorm { Count, Probability, ProbabilityDensity }

/// <summary>Counts of values in bins, binned by Plotly.</summary>
public sealed class Histogram : Trace
{
    public Histogram(IEnumerable<double> values) => Values = ToDoubles(values);

    public Histogram(IEnumerable<float> values) => Values = ToDoubles(values);

    public IReadOnlyList<double> Values { get; }
    internal override IEnumerable<double> XValues => Values;
    /// <summary>Maximum number of bins (Plotly picks round bin edges up to this many).</summary>
    public int? Bins { get; init; }
    public HistogramNorm Norm { get; init; } = HistogramNorm.Count;
    public string? Color { get; init; }
    public double? Opacity { get; init; }

    internal override void Write(PlotlyJsonWriter w, string xAxis, string yAxis)
    {
        WriteHeader(w, "histogram", xAxis, yAxis);
        w.Numbers("x", Values);
        if (Bins is { } b) w.Number("nbinsx", b);
        if (Norm != HistogramNorm.Count) w.String("histnorm", Norm == HistogramNorm.Probability ? "probability" : "probability density");
        if (Opacity is { } o) w.Number("opacity", o);
        if (Color is not null)
        {
            w.Start("marker");
            w.String("color", Color);
            w.End();
        }
    }
}

/// <summary>A matrix drawn as coloured cells (confusion matrices, distance matrices, weights).</summary>
public sealed class Heatmap : Trace
{
    public Heatmap(double[,] z) => Z = z;

    public Heatmap(float[,] z)
    {
        Z = new double[z.GetLength(0), z.GetLength(1)];
        for (var i = 0; i < z.GetLength(0); i++)
            for (var j = 0; j < z.GetLength(1); j++) Z[i, j] = z[i, j];
    }

    /// <summary>Rows are drawn bottom to top, as Plotly does; reverse the y axis for matrix order.</summary>
    public double[,] Z { get; }
    public IReadOnlyList<string>? ColumnLabels { get; init; }
    public IReadOnlyList<string>? RowLabels { get; init; }
    /// <summary>Numeric coordinates of the columns and rows (e.g. a grid over the plane), instead of labels.</summary>
    public IReadOnlyList<double>? X { get; init; }
    public IReadOnlyList<double>? Y { get; init; }
    /// <summary>A Plotly colour scale name: "Viridis", "Greys", "Blues", "RdBu", …</summary>
    public string ColorScale { get; init; } = "Viridis";
    public bool ReverseScale { get; init; }
    /// <summary>
    /// Value drawn with the first colour of the scale (default: the data's minimum). Give the quantity's own range
    /// (0 and 1 for probabilities) so that small differences do not look strong.
    /// </summary>
    public double? ZMin { get; init; }
    public double? ZMax { get; init; }
    /// <summary>Show the colour bar; its caption states the data's minimum and maximum, so a reader sees what the colours span.</summary>
    public bool ShowScale { get; init; } = true;
    /// <summary>What the values are, written over the colour bar's range caption.</summary>
    public string? ScaleTitle { get; init; }
    /// <summary>Print each cell's value with this d3 format, e.g. ".2f".</summary>
    public string? ValueFormat { get; init; }
    /// <summary>For class maps: cell value k (0, 1, …) gets colour k of this list, instead of a continuous scale.</summary>
    public IReadOnlyList<string>? CategoryColors { get; init; }
    public double? Opacity { get; init; }

    internal override void Write(PlotlyJsonWriter w, string xAxis, string yAxis) => Write(w, xAxis, yAxis, (0, 1));

    internal override void Write(PlotlyJsonWriter w, string xAxis, string yAxis, (double Start, double End) plotDomain)
    {
        WriteHeader(w, "heatmap", xAxis, yAxis);
        int rows = Z.GetLength(0), cols = Z.GetLength(1);
        if (ColumnLabels is not null) { CheckLabels("ColumnLabels", cols, ColumnLabels.Count); w.Strings("x", ColumnLabels); }
        if (RowLabels is not null) { CheckLabels("RowLabels", rows, RowLabels.Count); w.Strings("y", RowLabels); }
        if (X is not null) { CheckLabels("X", cols, X.Count); w.Numbers("x", X); }
        if (Y is not null) { CheckLabels("Y", rows, Y.Count); w.Numbers("y", Y); }
        w.Json.WritePropertyName("z");
        w.Json.WriteStartArray();
        for (var i = 0; i < rows; i++) w.Numbers(Enumerable.Range(0, cols).Select(j => Z[i, j]), 5);
        w.Json.WriteEndArray();
        if (CategoryColors is { Count: > 0 } colors)
        {
            // A step scale: value k (scaled to [k/n, (k+1)/n) over zmin = -0.5 … zmax = n - 0.5) is colour k.
            w.Json.WritePropertyName("colorscale");
            w.Json.WriteStartArray();
            for (var k = 0; k < colors.Count; k++)
                foreach (var edge in new[] { (double)k / colors.Count, (double)(k + 1) / colors.Count })
                {
                    w.Json.WriteStartArray();
                    w.Number(edge, 5);
                    w.Json.WriteStringValue(colors[k]);
                    w.Json.WriteEndArray();
                }
            w.Json.WriteEndArray();
            w.Number("zmin", -0.5);
            w.Number("zmax", colors.Count - 0.5);
            w.Bool("showscale", false);
        }
        else
        {
            w.String("colorscale", ColorScale);
            if (ReverseScale) w.Bool("reversescale", true);
            if (ZMin is { } lo) w.Number("zmin", lo);
            if (ZMax is { } hi) w.Number("zmax", hi);
            w.Bool("showscale", ShowScale);
            if (ShowScale)
            {
                w.Start("colorbar");
                w.Number("thickness", 14);
                // Beside its own plot only, not the whole figure's height.
                w.Number("y", (plotDomain.Start + plotDomain.End) / 2, 4);
                w.String("yanchor", "middle");
                w.Number("len", plotDomain.End - plotDomain.Start, 4);
                w.Start("title");
                w.String("text", ScaleCaption());
                w.String("side", "right");
                w.Start("font");
                w.Number("size", 12);
                w.End();
                w.End();
                w.End();
            }
        }
        if (Opacity is { } o) w.Number("opacity", o);
        if (ValueFormat is not null) w.String("texttemplate", "%{z:" + ValueFormat + "}");
    }

    private static void CheckLabels(string what, int expected, int actual)
    {
        if (expected != actual) throw new ArgumentException($"{what} has {actual} labels for {expected} cells.");
    }

    /// <summary>The data's minimum and maximum (finite cells), or null when no cell is finite.</summary>
    public (double Min, double Max)? DataRange()
    {
        var finite = Z.Cast<double>().Where(double.IsFinite).ToArray();
        return finite.Length == 0 ? null : (finite.Min(), finite.Max());
    }

    /// <summary>"r: values 0.17 … 0.22": the colour bar says what the colours span in this figure.</summary>
    internal string ScaleCaption()
    {
        var range = DataRange() is not { } r ? "no finite values"
            // Values that round alike get the digits that tell them apart (0.2 … 0.2 would say "all equal").
            : Short(r.Min) == Short(r.Max) && r.Min != r.Max ? FormattableString.Invariant($"values {r.Min:G6} … {r.Max:G6}")
            : $"values {Short(r.Min)} … {Short(r.Max)}";
        return ScaleTitle is null ? range : $"{ScaleTitle}: {range}";
    }

    private static string Short(double v) =>
        v == 0 || Math.Abs(v) is >= 0.01 and < 1e5 ? v.ToString("0.###", CultureInfo.InvariantCulture) : v.ToString("0.##e0", CultureInfo.InvariantCulture);
}

/// <summary>
/// Dataset samples in a grid: greyscale images (H×W, drawn as one heatmap with gaps) or colour images
/// (3×H×W, drawn as one Plotly image). Axes are hidden and pixels square.
/// </summary>
public sealed class ImageGrid : Trace
{
    private readonly IReadOnlyList<float[,]>? grey;
    private readonly IReadOnlyList<float[,,]>? colour;

    /// <summary>Greyscale images, all H×W.</summary>
    public ImageGrid(IReadOnlyList<float[,]> images)
    {
        if (images.Count == 0) throw new ArgumentException("An image grid needs at least one image.", nameof(images));
        var (h, w) = (images[0].GetLength(0), images[0].GetLength(1));
        if (images.Any(i => i.GetLength(0) != h || i.GetLength(1) != w))
            throw new ArgumentException("Every image of a grid must have the same height and width.", nameof(images));
        grey = images;
        (Count, Height, Width) = (images.Count, h, w);
    }

    /// <summary>One greyscale image.</summary>
    public ImageGrid(float[,] image) : this([image]) { }

    /// <summary>Colour images, all 3×H×W (channels first, as tensors are).</summary>
    public ImageGrid(IReadOnlyList<float[,,]> images)
    {
        if (images.Count == 0) throw new ArgumentException("An image grid needs at least one image.", nameof(images));
        var (c, h, w) = (images[0].GetLength(0), images[0].GetLength(1), images[0].GetLength(2));
        if (c != 3 || images.Any(i => i.GetLength(0) != c || i.GetLength(1) != h || i.GetLength(2) != w))
            throw new ArgumentException("Colour images of a grid must all be 3×H×W.", nameof(images));
        colour = images;
        (Count, Height, Width) = (images.Count, h, w);
    }

    /// <summary>From a tensor [N, H, W], [N, 1, H, W] or [N, 3, H, W] (any device and dtype).</summary>
    public static ImageGrid FromTensor(Tensor images, int columns = 0, IReadOnlyList<string>? labels = null)
    {
        var shape = images.shape;
        var values = images.ToArray<float>();
        if (shape.Length == 2) shape = [1, shape[0], shape[1]];
        if (shape.Length == 4 && shape[1] == 1) shape = [shape[0], shape[2], shape[3]];
        if (shape.Length == 3)
        {
            int n = (int)shape[0], h = (int)shape[1], w = (int)shape[2];
            var list = new float[n][,];
            for (var k = 0; k < n; k++)
            {
                list[k] = new float[h, w];
                Buffer.BlockCopy(values, k * h * w * sizeof(float), list[k], 0, h * w * sizeof(float));
            }
            return new ImageGrid(list) { Columns = columns, Labels = labels };
        }
        if (shape.Length == 4 && shape[1] == 3)
        {
            int n = (int)shape[0], h = (int)shape[2], w = (int)shape[3];
            var list = new float[n][,,];
            for (var k = 0; k < n; k++)
            {
                list[k] = new float[3, h, w];
                Buffer.BlockCopy(values, k * 3 * h * w * sizeof(float), list[k], 0, 3 * h * w * sizeof(float));
            }
            return new ImageGrid(list) { Columns = columns, Labels = labels };
        }
        throw new ArgumentException($"An image grid takes a tensor [N,H,W], [N,1,H,W] or [N,3,H,W], not [{string.Join(", ", images.shape)}].");
    }

    public int Count { get; }
    public int Height { get; }
    public int Width { get; }
    /// <summary>Images per row; 0 picks a near-square grid.</summary>
    public int Columns { get; init; }
    /// <summary>A caption over each image (class names, labels).</summary>
    public IReadOnlyList<string>? Labels { get; init; }
    /// <summary>Greyscale: high values drawn dark (Omniglot's strokes are 1 on a 0 background after inversion). Default: high = white.</summary>
    public bool Invert { get; init; }
    /// <summary>Value range mapped to black…white; default the images' own minimum and maximum.</summary>
    public double? Min { get; init; }
    public double? Max { get; init; }
    /// <summary>Gap between images, in pixels of the images.</summary>
    public int Gap { get; init; } = 2;

    private int ColumnCount => Columns > 0 ? Math.Min(Columns, Count) : (int)Math.Ceiling(Math.Sqrt(Count));
    private int RowCount => (Count + ColumnCount - 1) / ColumnCount;
    private int LabelSpace => Labels is null ? 0 : Math.Max(Gap, (int)Math.Ceiling(Height * 0.3));
    private int TileHeight => Height + Gap + LabelSpace;
    private int TileWidth => Width + Gap;

    internal override void Configure(Figure figure, int row, int column)
    {
        if (Labels is not null && Labels.Count != Count)
            throw new ArgumentException($"An image grid of {Count} images got {Labels.Count} labels.");
        foreach (var axis in new[] { figure.X(row, column), figure.Y(row, column) })
        {
            axis.Visible = false;
            axis.ShowGrid = false;
            axis.ZeroLine = false;
        }
        figure.Y(row, column).Reversed = true;
        figure.Y(row, column).EqualAspect = true;
        if (Labels is null) return;
        var (xAxis, yAxis) = figure.AxisNames(row, column);
        for (var k = 0; k < Count; k++)
        {
            var (r, c) = (k / ColumnCount, k % ColumnCount);
            figure.AddAnnotation(new Annotation(Labels[k], c * TileWidth + (Width - 1) / 2.0, r * TileHeight + LabelSpace - 0.5)
            {
                XRef = xAxis, YRef = yAxis, YAnchor = "bottom", FontSize = 10,
            });
        }
    }

    internal override void Write(PlotlyJsonWriter w, string xAxis, string yAxis)
    {
        WriteHeader(w, grey is not null ? "heatmap" : "image", xAxis, yAxis);
        int rows = RowCount * TileHeight - Gap, cols = ColumnCount * TileWidth - Gap;
        var (lo, hi) = Range();
        var span = hi > lo ? hi - lo : 1;
        if (colour is not null)
        {
            // Colour grids travel as one PNG (a JSON number per channel and pixel would be ~10× larger); gaps are white.
            var rgb = new byte[rows * cols * 3];
            Array.Fill(rgb, (byte)255);
            for (var y = 0; y < rows; y++)
            {
                var (r, py) = (y / TileHeight, y % TileHeight - LabelSpace);
                for (var x = 0; x < cols; x++)
                {
                    var (c, px) = (x / TileWidth, x % TileWidth);
                    var k = r * ColumnCount + c;
                    if (k >= Count || py < 0 || py >= Height || px >= Width) continue;
                    for (var ch = 0; ch < 3; ch++)
                        rgb[(y * cols + x) * 3 + ch] = (byte)Math.Round(Math.Clamp((colour[k][ch, py, px] - lo) / span, 0, 1) * 255);
                }
            }
            w.String("source", "data:image/png;base64," + Convert.ToBase64String(PngEncoder.Rgb(rgb, cols, rows)));
            w.String("hoverinfo", "skip");
            return;
        }
        w.Json.WritePropertyName("z");
        w.Json.WriteStartArray();
        for (var y = 0; y < rows; y++)
        {
            w.Json.WriteStartArray();
            var (r, py) = (y / TileHeight, y % TileHeight - LabelSpace);
            for (var x = 0; x < cols; x++)
            {
                var (c, px) = (x / TileWidth, x % TileWidth);
                var k = r * ColumnCount + c;
                var inside = k < Count && py >= 0 && py < Height && px < Width;
                // Gaps are null: Plotly leaves them transparent.
                if (inside) w.Number(grey![k][py, px], 3);
                else w.Json.WriteNullValue();
            }
            w.Json.WriteEndArray();
        }
        w.Json.WriteEndArray();
        w.String("colorscale", "Greys");
        // Plotly's "Greys" runs black (low) → white (high); reversed, high values are dark.
        w.Bool("reversescale", Invert);
        w.Number("zmin", lo);
        w.Number("zmax", hi);
        w.Bool("showscale", false);
        w.String("hoverinfo", "skip");
    }

    private (double Lo, double Hi) Range()
    {
        if (Min is { } a && Max is { } b) return (a, b);
        var all = grey is not null ? grey.SelectMany(i => i.Cast<float>()) : colour!.SelectMany(i => i.Cast<float>());
        double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
        foreach (var v in all)
        {
            if (!float.IsFinite(v)) continue;
            lo = Math.Min(lo, v);
            hi = Math.Max(hi, v);
        }
        if (double.IsInfinity(lo)) (lo, hi) = (0, 1);
        return (Min ?? lo, Max ?? hi);
    }
}

/// <summary>A text label at a point of the plot (data coordinates) or of the figure ("paper" coordinates 0…1).</summary>
public sealed record Annotation(string Text, double X, double Y)
{
    public string XRef { get; init; } = "x";
    public string YRef { get; init; } = "y";
    public string XAnchor { get; init; } = "center";
    public string YAnchor { get; init; } = "middle";
    public double? FontSize { get; init; }
    public bool ShowArrow { get; init; }

    internal void Write(PlotlyJsonWriter w)
    {
        w.Start();
        w.String("text", Text);
        w.Number("x", X);
        w.Number("y", Y);
        w.String("xref", XRef);
        w.String("yref", YRef);
        w.String("xanchor", XAnchor);
        w.String("yanchor", YAnchor);
        w.Bool("showarrow", ShowArrow);
        if (FontSize is { } s)
        {
            w.Start("font");
            w.Number("size", s);
            w.End();
        }
        w.End();
    }
}

/// <summary>Plotly's default colour cycle, so that a band can take the colour of its line.</summary>
public static class Palette
{
    public static readonly IReadOnlyList<string> Colors =
    [
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    ];

    public static string Get(int index) => Colors[((index % Colors.Count) + Colors.Count) % Colors.Count];

    /// <summary>"#rrggbb" → "rgba(r,g,b,alpha)"; other CSS colours are returned as they are.</summary>
    public static string WithAlpha(string color, double alpha)
    {
        if (color.Length != 7 || color[0] != '#') return color;
        var rgb = Convert.FromHexString(color.AsSpan(1));
        return string.Create(CultureInfo.InvariantCulture, $"rgba({rgb[0]},{rgb[1]},{rgb[2]},{alpha:0.###})");
    }
}
