using System.Text.Json;
using MetaNotebooks.Algorithms.MetaLearner;
using MetaNotebooks.Figures;
using MetaNotebooks.Results;

namespace MetaNotebooks.Experiments;

/// <summary>Figures and the table of the meta-learner LSTM chapter (`mn reproduce metalearner-miniimagenet`).</summary>
public static class MetaLearnerFigures
{
    /// <summary>The gates' mean per update and layer over the final evaluation's test tasks, as a result stores them.</summary>
    public static GateTrace Gates(ResultFile result) =>
        result.Details?["gates"].Deserialize<GateTrace>(ResultFile.Json) ?? throw new InvalidDataException($"{result.Experiment}: the result has no gate values");

    /// <summary>
    /// The paper's Figure-style plot: the mean input gate i_t (a learning rate per coordinate) and forget gate f_t (a
    /// shrinkage of the parameters) of each layer of the learner at each of the T updates, side by side.
    /// </summary>
    public static Figure GateValues(GateTrace gates, string title)
    {
        var figure = Figure.Subplots(1, 2, titles: ["input gate i_t (step size)", "forget gate f_t (shrinkage)"], title: title);
        var steps = Enumerable.Range(1, gates.Input.Length).Select(t => (double)t).ToArray();
        for (var l = 0; l < gates.Layers.Count; l++)
        {
            var color = Palette.Get(l);
            figure.Add(new Scatter(steps, gates.Input.Select(r => r[l])) { Name = gates.Layers[l], Mode = ScatterMode.LinesMarkers, Color = color, LegendGroup = gates.Layers[l] }, 1, 1);
            figure.Add(new Scatter(steps, gates.Forget.Select(r => r[l])) { Name = gates.Layers[l], Mode = ScatterMode.LinesMarkers, Color = color, LegendGroup = gates.Layers[l], ShowLegend = false }, 1, 2);
        }
        for (var c = 1; c <= 2; c++)
        {
            figure.X(1, c).Title = "update t";
            figure.X(1, c).Integer = true;
            figure.Y(1, c).Title = c == 1 ? "mean i_t" : "mean f_t";
        }
        return figure;
    }

    /// <summary>Query accuracy (%) after each update, one line per method with its 95% CI band: e.g. the learned update, SGD, MAML's initialisation.</summary>
    public static Figure AccuracyPerUpdate(string title, params (string Method, int[] Updates, double[][] PerTask)[] series)
    {
        var figure = new Figure(title);
        for (var k = 0; k < series.Length; k++)
        {
            var (method, updates, perTask) = series[k];
            if (updates.Length != perTask.Length) throw new ArgumentException($"{method}: {updates.Length} updates but {perTask.Length} rows of accuracies.", nameof(series));
            var s = perTask.Select(Summary.Of).ToArray();
            var x = updates.Select(u => (double)u).ToArray();
            var color = Palette.Get(k);
            figure.Add(new Band(x, s.Select(v => v.Mean - v.Ci95), s.Select(v => v.Mean + v.Ci95)) { Color = color });
            figure.Add(new Scatter(x, s.Select(v => v.Mean)) { Name = method, Mode = ScatterMode.LinesMarkers, Color = color, LegendGroup = method });
        }
        figure.XAxis.Title = "updates of the learner on the support set";
        figure.XAxis.Integer = true;
        figure.YAxis.Title = "query accuracy (%)";
        return figure;
    }

    /// <summary>The paper's Mini-ImageNet table beside ours: every published row, and our cell where a committed result has it.</summary>
    public static Display Table(PublishedPaper paper, IReadOnlyList<ResultFile> results)
    {
        var table = paper.Table("miniimagenet");
        var cells = results.SelectMany(r => r.Cells).Where(c => c.Table == table.Id).ToList();
        var rows = table.Rows.Select(row => new object?[] { row.Method }.Concat(table.Columns.SelectMany((column, j) =>
        {
            var published = row.Values.ElementAtOrDefault(j) is { } v ? $"{v:0.00}{(row.Ci95?.ElementAtOrDefault(j) is { } e ? $" ± {e:0.00}" : "")}" : "–";
            var ours = cells.LastOrDefault(c => c.Method == row.Method && c.Column == column);
            return new object?[] { published, ours is null ? "not run" : $"{ours.Mean:0.00} ± {ours.Ci95:0.00}" };
        })));
        return Display.Table(["method", .. table.Columns.SelectMany(c => new[] { $"{c} published", $"{c} ours" })], rows,
                             $"{paper.Title}: {table.Title}, accuracy (%); ours on the 600 shared test episodes");
    }
}
