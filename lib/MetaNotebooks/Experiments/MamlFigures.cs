using System.Text.Json;
using System.Text.Json.Nodes;
using MetaNotebooks.Figures;
using MetaNotebooks.Results;

namespace MetaNotebooks.Experiments;

/// <summary>Figures and tables of MAML's few-shot classification results (`mn reproduce maml-omniglot` and `maml-miniimagenet`); each cell is compared with its own published table.</summary>
public static class MamlFigures
{
    /// <summary>The accuracy curve of a result (test accuracy vs iteration, after `steps` fine-tuning steps).</summary>
    public static IReadOnlyList<CurvePoint> AccuracyCurve(ResultFile result) =>
        result.Details?["accuracy_curve"].Deserialize<List<CurvePoint>>(ResultFile.Json)
        ?? throw new InvalidDataException($"{result.Experiment}: the result has no accuracy curve");

    public static CurvePoint Final(ResultFile result) =>
        result.Details?["final"].Deserialize<CurvePoint>(ResultFile.Json) ?? throw new InvalidDataException($"{result.Experiment}: no final evaluation");

    /// <summary>
    /// Test accuracy after the test-time steps against meta-iterations, one line per result (±95% CI band), with the
    /// published value of each method as a dashed line: how far the curve still has to go.
    /// </summary>
    public static Figure AccuracyVsIterations(IReadOnlyList<ResultFile> results, PublishedPaper paper)
    {
        var figure = new Figure($"{string.Join(", ", Cells(results))}: test accuracy vs meta-iterations (dashed: published)");
        for (var i = 0; i < results.Count; i++)
        {
            var r = results[i];
            var cell = r.Cells[0];
            var table = paper.Table(cell.Table);
            var color = Palette.Get(i);
            var points = AccuracyCurve(r).Append(Final(r)).GroupBy(p => p.Iteration).Select(g => g.Last()).OrderBy(p => p.Iteration).ToArray();
            var x = points.Select(p => (double)p.Iteration).ToArray();
            var y = points.Select(p => p.Mean[^1]).ToArray();
            figure.Add(new Band(x, points.Select(p => p.Mean[^1] - p.Ci95[^1]), points.Select(p => p.Mean[^1] + p.Ci95[^1])) { Color = color });
            figure.Add(new Scatter(x, y) { Name = $"{cell.Method}, {cell.Column} (ours)", Mode = ScatterMode.LinesMarkers, Color = color, LegendGroup = r.Experiment });
            var published = table.Rows.FirstOrDefault(row => row.Method == cell.Method)?.Values.ElementAtOrDefault(table.Columns.ToList().IndexOf(cell.Column));
            if (published is { } p)
                figure.Add(new Scatter([0, Math.Max(x[^1], 1)], [p, p]) { Name = $"{cell.Method} (paper)", Dash = "dash", Color = color, LegendGroup = r.Experiment });
        }
        figure.XAxis.Title = "meta-iteration";
        figure.YAxis.Title = "test accuracy (%)";
        return figure;
    }

    /// <summary>
    /// Meta-training loss (query cross-entropy after adaptation) of each result: one plot per cell of the table (N-way
    /// K-shot), since 5-way and 20-way losses start from different chance levels (ln 5, ln 20); a colour per method.
    /// </summary>
    public static Figure TrainingLoss(IReadOnlyList<ResultFile> results)
    {
        var cells = Cells(results);
        var methods = results.Select(r => r.Cells[0].Method).Distinct().ToList();
        // Two plots per row; an empty list (no runs yet) still gives one empty plot.
        var figure = Figure.Subplots(Math.Max(1, (cells.Count + 1) / 2), Math.Clamp(cells.Count, 1, 2), titles: cells,
                                     title: "Meta-training loss (query cross-entropy after the inner steps)");
        var shown = new HashSet<string>();
        foreach (var r in results)
        {
            var d = r.Details!;
            var every = d["loss_curve_every"]!.GetValue<int>();
            var y = d["loss_curve"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
            var cell = r.Cells[0];
            var k = cells.IndexOf(cell.Column);
            var (row, column) = (k / 2 + 1, k % 2 + 1);
            figure.Add(new Scatter(Enumerable.Range(1, y.Length).Select(i => (double)i * every), y)
            {
                Name = cell.Method, Color = Palette.Get(methods.IndexOf(cell.Method)), LegendGroup = cell.Method, ShowLegend = shown.Add(cell.Method),
            }, row, column);
            figure.X(row, column).Title = "meta-iteration";
            figure.Y(row, column).Title = "loss";
            figure.Y(row, column).Log = true;
        }
        return figure;
    }

    /// <summary>The table cells ("5-way 1-shot", …) the results cover, in order of first appearance.</summary>
    private static List<string> Cells(IEnumerable<ResultFile> results) => results.Select(r => r.Cells[0].Column).Distinct().ToList();

    /// <summary>Published vs ours for every cell, with the iterations reached, the training time and seconds per iteration.</summary>
    public static Display ResultsTable(IReadOnlyList<ResultFile> results, PublishedPaper paper)
    {
        var rows = new List<object?[]>();
        foreach (var r in results)
        foreach (var c in r.Cells)
        {
            var table = paper.Table(c.Table);
            var published = table.Rows.FirstOrDefault(row => row.Method == c.Method);
            var column = table.Columns.ToList().IndexOf(c.Column);
            var value = published?.Values.ElementAtOrDefault(column);
            var ci = published?.Ci95?.ElementAtOrDefault(column);
            rows.Add([c.Method, c.Column, value is { } v ? $"{v:0.0}{(ci is { } e ? $" ± {e:0.0}" : "")}" : "–", $"{c.Mean:0.0} ± {c.Ci95:0.0}",
                      value is { } p ? (c.Mean - p).ToString("+0.0;-0.0") : "–", c.Budget]);
        }
        var tables = results.SelectMany(r => r.Cells).Select(c => paper.Table(c.Table).Title).Distinct().ToList();
        return Display.Table(["method", "cell", "published", "ours (600 tasks, 95% CI)", "gap", "our budget"], rows,
                             $"{paper.Title}: {(tables.Count > 0 ? string.Join("; ", tables) + ", " : "")}accuracy (%)");
    }
}
