using System.Text.Json.Nodes;
using MetaNotebooks.Algorithms;
using MetaNotebooks.Figures;
using MetaNotebooks.Results;
using MetaNotebooks.Tasks;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Experiments;

/// <summary>The sine experiment's figures (Finn et al. 2017, Figures 2 and 3), redrawn from our models and results.</summary>
public static class MamlSineFigures
{
    // Colours of the predictions before and after adaptation; red stays for the ground truth.
    private static readonly string[] StepColors = ["#ff7f0e", "#2ca02c", "#1f77b4", "#9467bd"];

    /// <summary>
    /// Figure 2: one task — the true function, its K support points, and each learner's prediction before and after
    /// 1 and 10 SGD steps (step size α) on those points. One subplot per learner.
    /// </summary>
    public static Figure AdaptationOnOneTask(IReadOnlyList<(string Name, nn.Module Model)> learners, double amplitude, double phase,
                                             Tensor supportX, double stepSize = 0.01, int[]? steps = null)
    {
        steps ??= [0, 1, 10];
        using var scope = NewDisposeScope();
        var grid = linspace(-5, 5, 200).unsqueeze(-1);
        var truth = SineTasks.Evaluate(grid, amplitude, phase);
        var supportY = SineTasks.Evaluate(supportX, amplitude, phase);
        var gridX = grid.ToArray<double>();
        var figure = Figure.Subplots(1, learners.Count, sharedY: true, titles: learners.Select(l => $"{l.Name}, K = {supportX.size(0)}").ToList(),
                                     title: $"Adapting to a new sine task from K = {supportX.size(0)} points");
        for (var c = 0; c < learners.Count; c++)
        {
            var (name, model) = learners[c];
            var legend = c == 0;
            figure.Add(new Scatter(gridX, truth.ToArray<double>()) { Name = "ground truth", Color = "#d62728", LineWidth = 2, ShowLegend = legend, LegendGroup = "truth" }, 1, c + 1);
            var batch = new TaskBatch(supportX.unsqueeze(0), supportY.unsqueeze(0), grid.unsqueeze(0), truth.unsqueeze(0));
            using var curvePredictions = Predictions(model, batch, steps.Max(), stepSize);
            for (var i = 0; i < steps.Length; i++)
            {
                var label = steps[i] == 0 ? "pre-update" : $"{steps[i]} grad step{(steps[i] > 1 ? "s" : "")}";
                figure.Add(new Scatter(gridX, curvePredictions[steps[i]].ToArray<double>())
                {
                    Name = label, Color = StepColors[Math.Min(i, StepColors.Length - 1)], Dash = steps[i] == 0 ? "dot" : i == steps.Length - 1 ? "solid" : "dash",
                    ShowLegend = legend, LegendGroup = label,
                }, 1, c + 1);
            }
            figure.Add(new Scatter(supportX.ToArray<double>(), supportY.ToArray<double>())
            {
                Name = "used for grad", Mode = ScatterMode.Markers, Symbol = "triangle-up", MarkerSize = 10, Color = "#7b3294", ShowLegend = legend, LegendGroup = "support",
            }, 1, c + 1);
            figure.X(1, c + 1).Title = "x";
        }
        figure.Y(1, 1).Title = "y";
        figure.Y(1, 1).Range = (-6, 6);
        return figure;
    }

    /// <summary>Predictions on the query inputs after 0…steps SGD steps on the support set: [steps + 1, N].</summary>
    private static Tensor Predictions(nn.Module model, TaskBatch task, int steps, double stepSize)
    {
        var current = (IReadOnlyList<Tensor>)model.parameters().Select(p => p.detach().requires_grad_()).ToList();
        var outputs = new List<Tensor>();
        for (var s = 0; s <= steps; s++)
        {
            using (no_grad()) outputs.Add(model.forward(task.QueryInputs[0], current).flatten());
            if (s == steps) break;
            var loss = TaskLosses.MeanSquaredError(model.forward(task.SupportInputs, current), task.SupportTargets).sum();
            var grads = autograd.grad(loss, current);
            using (no_grad()) current = current.Select((p, i) => p.add(grads[i], -stepSize).requires_grad_()).ToList();
        }
        return stack(outputs);
    }

    /// <summary>Figure 3: query MSE against the number of SGD steps, per learner, with 95% CI bands; one subplot per K.</summary>
    public static Figure MseVersusSteps(ResultFile result, IReadOnlyList<int>? ks = null, IReadOnlyList<string>? learners = null)
    {
        var details = result.Details ?? throw new InvalidDataException($"{result.Experiment}: the result has no details to plot");
        ks ??= [5, 10];
        learners ??= ["maml", "fomaml", "pretrained"];
        var figure = Figure.Subplots(1, ks.Count, sharedY: true, titles: ks.Select(k => $"k-shot regression, k = {k}").ToList(),
                                     title: "Query MSE on new sine tasks against gradient steps (95% CI)");
        for (var c = 0; c < ks.Count; c++)
        {
            for (var i = 0; i < learners.Count; i++)
            {
                if (details[learners[i]]?["eval"]?[$"k{ks[c]}"] is not JsonObject eval) continue;
                var mean = eval["mean"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
                var ci = eval["ci95"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
                var x = Enumerable.Range(0, mean.Length).Select(s => (double)s).ToArray();
                var color = Palette.Get(i);
                figure.Add(new Band(x, mean.Zip(ci, (m, e) => m - e), mean.Zip(ci, (m, e) => m + e)) { Color = color }, 1, c + 1);
                figure.Add(new Scatter(x, mean)
                {
                    Name = $"{SeriesNames.Of(learners[i])} (ours)", Mode = ScatterMode.LinesMarkers, Color = color,
                    ShowLegend = c == 0, LegendGroup = learners[i],
                }, 1, c + 1);
            }
            figure.X(1, c + 1).Title = "number of gradient steps";
        }
        figure.Y(1, 1).Title = "mean squared error";
        return figure;
    }

    /// <summary>Meta-training loss (mean over each window of iterations) of every learner in the result, named as <see cref="SeriesNames"/> names them.</summary>
    public static Figure TrainingCurves(ResultFile result)
    {
        var details = result.Details ?? throw new InvalidDataException($"{result.Experiment}: the result has no details to plot");
        var figure = new Figure("Meta-training loss (query MSE after adaptation; pretrained: regression MSE)");
        var i = 0;
        foreach (var (name, node) in details)
        {
            if (node?["loss_curve"] is not JsonArray curve) continue;
            var every = node["loss_curve_every"]!.GetValue<int>();
            var y = curve.Select(v => v!.GetValue<double>()).ToArray();
            figure.Add(new Scatter(Enumerable.Range(1, y.Length).Select(k => (double)k * every), y) { Name = SeriesNames.Of(name), Color = Palette.Get(i++) });
        }
        figure.XAxis.Title = "meta-iteration";
        figure.YAxis.Title = "loss";
        figure.YAxis.Log = true;
        return figure;
    }

    /// <summary>Published vs ours for every cell the run filled, as a table for a notebook.</summary>
    public static Display ResultsTable(ResultFile result, PublishedPaper paper)
    {
        var rows = new List<object?[]>();
        foreach (var c in result.Cells)
        {
            var table = paper.Table(c.Table);
            var published = table.Rows.FirstOrDefault(r => r.Method == c.Method)?.Values.ElementAtOrDefault(table.Columns.ToList().IndexOf(c.Column));
            rows.Add([c.Method, c.Column, published?.ToString("0.00") ?? "–", $"{c.Mean:0.000} ± {c.Ci95:0.000}",
                      published is { } p ? (c.Mean - p).ToString("+0.000;-0.000") : "–", c.Budget]);
        }
        return Display.Table(["method", "after", "published", "ours (95% CI)", "gap", "our budget"], rows,
            $"{paper.Title}: {result.Cells.FirstOrDefault()?.Table} — {result.Threads} thread(s), wall time {TimeSpan.FromSeconds(result.WallSeconds):hh\\:mm\\:ss}");
    }
}
