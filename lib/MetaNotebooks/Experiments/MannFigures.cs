using MetaNotebooks.Algorithms.Mann;
using MetaNotebooks.Data;
using MetaNotebooks.Figures;
using MetaNotebooks.Results;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Experiments;

/// <summary>One learner's accuracy by presentation (1st, 2nd, …): a curve of the chapter's figure.</summary>
public sealed record InstanceCurve(string Name, IReadOnlyList<int> Instances, IReadOnlyList<Summary> Accuracy)
{
    /// <summary>The curve a result file reports (its "omniglot" cells, in the paper's column order).</summary>
    public static InstanceCurve Of(ResultFile result)
    {
        var cells = result.Cells.Where(c => c.Table == "omniglot").ToList();
        if (cells.Count == 0) throw new ArgumentException($"{result.Experiment}: the result has no accuracy by presentation (table 'omniglot').");
        var instances = cells.Select(c => int.Parse(new string(c.Column.TakeWhile(char.IsDigit).ToArray()))).ToArray();
        return new InstanceCurve(cells[0].Method, instances, cells.Select(c => new Summary(c.Mean, c.Ci95, c.Count)).ToArray());
    }

    /// <summary>The curve of per-episode accuracies [episodes][K] (fractions) at `instances`, in percent.</summary>
    public static InstanceCurve Of(string name, IReadOnlyList<int> instances, double[][] perEpisode) =>
        new(name, instances, instances.Select((_, k) => Summary.Of(perEpisode.Select(r => r[k] * 100).ToArray())).ToArray());
}

/// <summary>Figures of the memory-augmented networks chapter (Santoro et al. 2016).</summary>
public static class MannFigures
{
    /// <summary>
    /// The first `steps` steps of one episode as the learner meets them: each drawing captioned "t: y·n" (step, its label,
    /// which presentation of that label it is). The label under a drawing reaches the learner only at the next step.
    /// </summary>
    public static Figure Sequence(LabelSequenceBatch batch, int episode = 0, int steps = 20, int columns = 10)
    {
        if (episode < 0 || episode >= batch.Count) throw new ArgumentOutOfRangeException(nameof(episode), episode, $"the batch has {batch.Count} episodes.");
        using var scope = NewDisposeScope();
        steps = Math.Min(steps, batch.Steps);
        var images = batch.Images[episode].narrow(0, 0, steps);
        var y = batch.Labels[episode].ToArray<long>();
        var n = batch.Instances[episode].ToArray<long>();
        var labels = Enumerable.Range(0, steps).Select(t => $"{t + 1}: {y[t]}·{n[t]}").ToArray();
        var rows = (steps + columns - 1) / columns;
        var grid = new ImageGrid(DatasetFigures.GreyImages(images)) { Columns = columns, Labels = labels, Invert = true, Min = 0, Max = 1 };
        return new Figure($"The first {steps} steps of an episode (caption: step: label·presentation)") { Width = Math.Max(420, 62 * columns + 100), Height = 85 * rows + 100 }.Add(grid);
    }

    /// <summary>
    /// The memory over one episode, three heat maps over (step, slot): one head's read weights w^r_t, the write weights
    /// of all heads together Σ_h w^w_t(h) and the usage w^u_t; darker is larger. Reads are drawn over their own range
    /// (a softmax of cosines over many slots is nearly flat, and its small differences are what the read uses); writes
    /// and usage from 0. The steps' labels and presentations are in <see cref="StepLabels"/>, to print beside it.
    /// </summary>
    public static Figure Addressing(MannTrace trace, int episode = 0, int head = 0, int? slots = null)
    {
        if (episode < 0 || episode >= trace.Usage.size(0)) throw new ArgumentOutOfRangeException(nameof(episode), episode, $"the trace has {trace.Usage.size(0)} episodes.");
        if (head < 0 || head >= trace.ReadWeights.size(2)) throw new ArgumentOutOfRangeException(nameof(head), head, $"the trace has {trace.ReadWeights.size(2)} heads.");
        using var scope = NewDisposeScope();
        var steps = (int)trace.Usage.size(1);
        var shown = (int)Math.Min(slots ?? trace.Usage.size(2), trace.Usage.size(2));
        double[,] Grid(Tensor stepBySlot)   // [T, N] → z[slot, step]
        {
            var values = stepBySlot.narrow(1, 0, shown).to(ScalarType.Float64).contiguous().ToArray<double>();
            var z = new double[shown, steps];
            for (var t = 0; t < steps; t++)
                for (var i = 0; i < shown; i++) z[i, t] = values[t * shown + i];
            return z;
        }
        var panels = new (string Title, Tensor Values, string Scale, bool OwnRange)[]
        {
            ($"read weights w^r_t of head {head + 1} (over their own range)", trace.ReadWeights[episode].select(1, head), "w^r", true),
            ("write weights Σ_h w^w_t(h) of all heads", trace.WriteWeights[episode].sum(1), "Σ w^w", false),
            ("usage w^u_t", trace.Usage[episode], "w^u", false),
        };
        var figure = Figure.Subplots(3, 1, titles: panels.Select(p => p.Title).ToArray(),
                                     title: $"The memory over one test episode ({steps} steps, {shown} of {trace.Usage.size(2)} slots)");
        var x = Enumerable.Range(1, steps).Select(t => (double)t).ToArray();
        var y = Enumerable.Range(0, shown).Select(i => (double)i).ToArray();
        for (var r = 0; r < panels.Length; r++)
        {
            var z = Grid(panels[r].Values);
            var values = z.Cast<double>().ToArray();
            figure.Add(new Heatmap(z)
            {
                X = x, Y = y, ColorScale = "Blues", ReverseScale = true,
                ZMin = panels[r].OwnRange ? values.Min() : 0, ZMax = Math.Max(values.Max(), (panels[r].OwnRange ? values.Min() : 0) + 1e-9),
                ScaleTitle = panels[r].Scale, Name = panels[r].Scale,
            }, r + 1, 1);
            figure.X(r + 1, 1).Title = "step t";
            figure.Y(r + 1, 1).Title = "memory slot";
            figure.Y(r + 1, 1).Reversed = true;
        }
        figure.Height = 900;
        figure.Width = 900;
        figure.Legend = Legend.Hidden;
        return figure;
    }

    /// <summary>What the learner saw at each step of one episode, "t: label·presentation", for the text beside <see cref="Addressing"/>.</summary>
    public static string StepLabels(Tensor labels, Tensor instances, int episode = 0)
    {
        var y = labels[episode].ToArray<long>();
        var n = instances[episode].ToArray<long>();
        return string.Join("  ", y.Select((label, t) => $"{t + 1}: {label}·{n[t]}"));
    }

    /// <summary>
    /// Accuracy by presentation, ours (markers with the 95% CI) beside the paper's (dashed), one colour per learner: the
    /// shape of Santoro et al.'s Table 1.
    /// </summary>
    public static Figure InstanceCurves(IReadOnlyList<InstanceCurve> ours, PublishedPaper paper, string? title = null)
    {
        var table = paper.Table("omniglot");
        var figure = new Figure(title ?? "Omniglot, 5 classes per episode: accuracy on the n-th presentation of a class");
        var methods = ours.Select(c => c.Name).Concat(table.Rows.Select(r => r.Method)).Distinct().ToList();
        foreach (var row in table.Rows)
        {
            var points = table.Columns.Select((c, i) => (Instance: int.Parse(new string(c.TakeWhile(char.IsDigit).ToArray())), Value: row.Values.ElementAtOrDefault(i)))
                                      .Where(p => p.Value is not null).ToArray();
            figure.Add(new Scatter(points.Select(p => (double)p.Instance), points.Select(p => p.Value!.Value))
            {
                Name = $"{row.Method}, published", Color = Palette.Get(methods.IndexOf(row.Method)), Dash = "dash", Mode = ScatterMode.LinesMarkers,
            });
        }
        foreach (var curve in ours)
            figure.Add(new Scatter(curve.Instances.Select(i => (double)i), curve.Accuracy.Select(s => s.Mean))
            {
                Name = $"{curve.Name}, ours ({curve.Accuracy[0].Count:N0} test episodes, 95% CI)", Color = Palette.Get(methods.IndexOf(curve.Name)),
                Mode = ScatterMode.LinesMarkers, ErrorY = curve.Accuracy.Select(s => s.Ci95).ToArray(), LineWidth = 3,
            });
        figure.Add(new Scatter([1.0, 10.0], [20.0, 20.0]) { Name = "chance (1 of 5 labels)", Color = "grey", Dash = "dot" });
        figure.XAxis.Title = "presentation of the class within the episode";
        figure.YAxis.Title = "accuracy (%)";
        figure.Legend = Legend.Bottom;
        return figure;
    }
}
