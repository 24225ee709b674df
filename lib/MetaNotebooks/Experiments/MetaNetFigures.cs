using System.Text.Json;
using System.Text.Json.Nodes;
using MetaNotebooks.Algorithms.MetaNet;
using MetaNotebooks.Figures;
using MetaNotebooks.Results;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Experiments;

/// <summary>
/// A cell the MetaNet chapter reports: what the paper says (a number, or only the direction of an effect where no number
/// was found) and the command that produces ours.
/// </summary>
public sealed record ExpectedCell(string Table, string Method, string Column, string Published, string Command);

/// <summary>Figures and tables of the Meta Networks chapter (docs/metanet.md).</summary>
public static class MetaNetFigures
{
    /// <summary>
    /// <see cref="LogAndSign"/> as curves over |g| on a log axis (10⁻⁹ … 10): the log feature (the same for ±g) and the
    /// sign feature for g &gt; 0 and g &lt; 0, with the point e⁻ᵏ where both saturate.
    /// </summary>
    public static Figure LogAndSignCurves(double k = LogAndSign.K, int points = 241)
    {
        if (points < 2) throw new ArgumentOutOfRangeException(nameof(points), points, "a curve needs at least 2 points.");
        using var scope = NewDisposeScope();
        var magnitudes = (linspace(-9, 1, points, ScalarType.Float64) * Math.Log(10)).exp();   // 10⁻⁹ … 10
        var positive = LogAndSign.Apply(magnitudes, k);                // [points, 2]
        var negative = LogAndSign.Apply(-magnitudes, k);
        var x = magnitudes.ToArray<double>();
        var figure = new Figure($"LogAndSign (k = {k:0.##}): the two features m and d read for each gradient coordinate g");
        figure.Add(new Scatter(x, positive.select(1, 0).ToArray<double>()) { Name = "log feature max(ln(|g| + ε)/k, −1), either sign", Color = Palette.Get(0), LineWidth = 3 });
        figure.Add(new Scatter(x, positive.select(1, 1).ToArray<double>()) { Name = "sign feature clamp(g·eᵏ, −1, 1), g > 0", Color = Palette.Get(1) });
        figure.Add(new Scatter(x, negative.select(1, 1).ToArray<double>()) { Name = "sign feature, g < 0", Color = Palette.Get(1), Dash = "dash" });
        var knee = Math.Exp(-k);
        figure.Add(new Scatter([knee, knee], [-1.1, 1.1]) { Name = $"|g| = e⁻ᵏ = {knee:0.0e0}", Color = "grey", Dash = "dot" });
        figure.XAxis.Title = "|g| (raw gradient coordinate)";
        figure.XAxis.Log = true;
        figure.YAxis.Title = "feature";
        figure.Legend = Legend.Bottom;
        return figure;
    }

    /// <summary>Every cell of a published table, with the command that makes ours: `command(column)`.</summary>
    public static IReadOnlyList<ExpectedCell> Expected(PublishedPaper paper, string tableId, Func<string, string> command)
    {
        var table = paper.Table(tableId);
        return table.Rows.SelectMany(row => table.Columns.Select((column, i) =>
            new ExpectedCell(tableId, row.Method, column, Format(row.Values.ElementAtOrDefault(i), row.Ci95?.ElementAtOrDefault(i)), command(column)))).ToArray();
    }

    /// <summary>
    /// Published beside ours, one row per expected cell: ours with its 95% CI and its budget (the episodes reached) where
    /// a result file has the cell, otherwise "not yet produced" and the command that will produce it.
    /// </summary>
    public static Display Comparison(IEnumerable<ExpectedCell> expected, IEnumerable<ResultFile> results, string caption)
    {
        var cells = results.SelectMany(r => r.Cells).ToList();
        var rows = expected.Select(e =>
        {
            // The latest run of a cell wins when several result files fill it (they are listed in file order).
            var ours = cells.LastOrDefault(c => c.Table == e.Table && c.Method == e.Method && c.Column == e.Column);
            return ours is null
                ? new object?[] { e.Method, e.Column, e.Published, "not yet produced", $"`{e.Command}`" }
                : [e.Method, e.Column, e.Published, $"{ours.Mean:0.00} ± {ours.Ci95:0.00} ({ours.Count:N0} test episodes)", ours.Budget];
        });
        return Display.Table(["method", "setting", "published", "ours (mean ± 95% CI)", "our budget, or the command that produces it"], rows, caption);
    }

    /// <summary>
    /// §5.3's curve from a result file: Omniglot test accuracy (mean, 95% CI band) against the MNIST trials trained after
    /// Omniglot, with the level at trial 0 dashed, so gains (reverse transfer) and forgetting read as distances from it.
    /// Null when the run had no continual phase.
    /// </summary>
    public static Figure? ContinualCurve(ResultFile result)
    {
        if (result.Details?["continual_curve"] is not JsonArray { Count: > 0 } points) return null;
        var curve = points.Deserialize<List<ContinualPoint>>(ResultFile.Json)!.OrderBy(p => p.Trials).ToArray();
        var x = curve.Select(p => (double)p.Trials).ToArray();
        var ways = result.Config["ways"]?.GetValue<int>();
        var figure = new Figure($"Continual learning: Omniglot {ways}-way 1-shot test accuracy while training on MNIST {ways}-way 1-shot trials");
        figure.Add(new Band(x, curve.Select(p => p.Mean - p.Ci95), curve.Select(p => p.Mean + p.Ci95)) { Color = Palette.Get(0) });
        figure.Add(new Scatter(x, curve.Select(p => p.Mean)) { Name = $"Omniglot accuracy ({curve[0].Episodes:N0} fixed test episodes, 95% CI)", Mode = ScatterMode.LinesMarkers, Color = Palette.Get(0) });
        figure.Add(new Scatter([x[0], x[^1]], [curve[0].Mean, curve[0].Mean]) { Name = "before MNIST (trial 0)", Color = "grey", Dash = "dash" });
        figure.XAxis.Title = "MNIST training trials (one Adam step each)";
        figure.YAxis.Title = "Omniglot test accuracy (%)";
        figure.Legend = Legend.Bottom;
        return figure;
    }

    private static string Format(double? value, double? ci) => value is { } v ? ci is { } e ? $"{v:0.00} ± {e:0.00}" : $"{v:0.00}" : "–";
}
