using MetaNotebooks.Algorithms.Metric;
using MetaNotebooks.Figures;
using MetaNotebooks.Results;
using MetaNotebooks.Tasks;
using MetaNotebooks.Training;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Experiments;

/// <summary>Figures of the metric-learning chapters: training curves, a 2-D view of an episode's embeddings, errors, the table.</summary>
public static class MetricFigures
{
    /// <summary>
    /// The training loss of each model of a result file (averaged over windows of loss_curve_every episodes). Each
    /// curve is named by `names[slug]` when given, otherwise as <see cref="SeriesNames.Of(ResultFile, string)"/> names it.
    /// </summary>
    public static Figure TrainingCurves(ResultFile result, string? title = null, IReadOnlyDictionary<string, string>? names = null)
    {
        var figure = new Figure(title ?? $"{result.Experiment}: training loss");
        var i = 0;
        foreach (var (slug, node) in result.Details ?? [])
        {
            if (node?["loss_curve"] is not System.Text.Json.Nodes.JsonArray curve) continue;
            var every = node["loss_curve_every"]?.GetValue<int>() ?? 1;
            var y = curve.Select(v => v!.GetValue<double>()).ToArray();
            // A short run has a few points (one per loss_curve_every episodes): markers keep a one-point curve visible.
            figure.Add(new Scatter(Enumerable.Range(1, y.Length).Select(k => (double)Math.Min(k * every, node["iterations"]!.GetValue<int>())), y)
                { Name = names?.GetValueOrDefault(slug) ?? SeriesNames.Of(result, slug), Color = Palette.Get(i++), Mode = y.Length < 20 ? ScatterMode.LinesMarkers : ScatterMode.Lines });
        }
        figure.XAxis.Title = "training episode";
        figure.YAxis.Title = "loss";
        return figure;
    }

    /// <summary>The loss curve of one training run (one point per outcome.CurveEvery episodes, each the mean over its window).</summary>
    public static Figure LossCurve(TrainingOutcome outcome, string title, string lossName = "loss") => LossCurves(title, (lossName, outcome));

    /// <summary>Several runs' loss curves on one plot (the same training with two settings, say), one colour each.</summary>
    public static Figure LossCurves(string title, params (string Name, TrainingOutcome Outcome)[] runs)
    {
        var figure = new Figure(title);
        for (var r = 0; r < runs.Length; r++)
        {
            var (name, outcome) = runs[r];
            var x = outcome.LossCurve.Select((_, i) => (double)Math.Min((i + 1) * outcome.CurveEvery, outcome.Iterations));
            figure.Add(new Scatter(x, outcome.LossCurve) { Name = name, Color = Palette.Get(r), Mode = outcome.LossCurve.Count < 20 ? ScatterMode.LinesMarkers : ScatterMode.Lines });
        }
        figure.XAxis.Title = "training episode";
        figure.YAxis.Title = "loss";
        return figure;
    }

    /// <summary>
    /// Principal-component view of one episode: the 2-D projection (top two principal directions of the episode's
    /// embeddings) of support points (circles), queries (crosses) and the class centres (stars). `embed` maps images
    /// [n, C, H, W] to [n, D] (or any shape, flattened); centres are the class means of the support embeddings
    /// (ProtoNet's prototypes; `centreName` names them in the legend).
    /// </summary>
    public static Figure EpisodeEmbeddings(Func<Tensor, Tensor> embed, TaskBatch episode, int ways, string title, string centreName = "prototype")
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var zs = embed(episode.SupportInputs[0]).flatten(1);
        var zq = embed(episode.QueryInputs[0]).flatten(1);
        var protos = EpisodeMetrics.ClassMeans(zs.unsqueeze(0), episode.SupportTargets, ways)[0];
        var all = cat([zs, zq, protos], 0).to(ScalarType.Float64);
        var centred = all - all.mean(0, keepdim: true);
        var basis = TopDirections(centred, 2);                         // [D, 2]
        var xy = centred.mm(basis);
        var (ns, nq) = ((int)zs.size(0), (int)zq.size(0));
        var p = xy.ToArray<double>();
        var ys = episode.SupportTargets[0].ToArray<long>();
        var yq = episode.QueryTargets[0].ToArray<long>();
        var figure = new Figure(title);
        for (var k = 0; k < ways; k++)
        {
            var color = Palette.Get(k);
            var s = Enumerable.Range(0, ns).Where(i => ys[i] == k).ToArray();
            var q = Enumerable.Range(0, nq).Where(i => yq[i] == k).Select(i => ns + i).ToArray();
            figure.Add(new Scatter(s.Select(i => p[2 * i]), s.Select(i => p[2 * i + 1])) { Name = $"class {k} support", Mode = ScatterMode.Markers, Color = color, MarkerSize = 10, LegendGroup = $"c{k}" });
            figure.Add(new Scatter(q.Select(i => p[2 * i]), q.Select(i => p[2 * i + 1])) { Name = $"class {k} queries", Mode = ScatterMode.Markers, Symbol = "x", Color = color, MarkerSize = 7, LegendGroup = $"c{k}", ShowLegend = false });
            var c = ns + nq + k;
            figure.Add(new Scatter([p[2 * c]], [p[2 * c + 1]]) { Name = $"{centreName} {k}", Mode = ScatterMode.Markers, Symbol = "star", Color = color, MarkerSize = 18, MarkerLineColor = "black", MarkerLineWidth = 1, LegendGroup = $"c{k}", ShowLegend = false });
        }
        figure.XAxis.Title = "PC 1";
        figure.YAxis.Title = "PC 2";
        return figure;
    }

    /// <summary>The top principal directions of centred rows x [n, D] by power iteration with deflation: [D, k].</summary>
    public static Tensor TopDirections(Tensor x, int k, int iterations = 200)
    {
        using var scope = NewDisposeScope();
        var cov = x.t().mm(x);
        var dirs = new List<Tensor>();
        using var g = new Generator(0);
        for (var j = 0; j < k; j++)
        {
            var v = randn([cov.size(0), 1], g, ScalarType.Float64);
            for (var it = 0; it < iterations; it++)
            {
                v = cov.mm(v);
                foreach (var u in dirs) v = v - u.mm(u.t().mm(v));
                v = v / v.norm().clamp_min(1e-12);
            }
            dirs.Add(v);
        }
        return cat(dirs, 1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Misclassified queries of a batch of episodes: for each, the query, the support image of the class it was given
    /// and the support image of its true class (first shot). Up to `max` rows of three.
    /// </summary>
    public static Figure Errors(IEpisodeClassifier classifier, TaskBatch batch, int ways, int max = 6, string? title = null)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var predicted = classifier.Scores(batch, ways).argmax(2);
        var pred = predicted.ToArray<long>();
        var truth = batch.QueryTargets.ToArray<long>();
        var (t, m) = ((int)batch.QueryTargets.size(0), (int)batch.QueryTargets.size(1));
        var shots = (int)batch.SupportInputs.size(1) / ways;
        var images = new List<Tensor>();
        var labels = new List<string>();
        for (var i = 0; i < t * m && images.Count < 3 * max; i++)
        {
            if (pred[i] == truth[i]) continue;
            var (task, q) = (i / m, i % m);
            images.Add(batch.QueryInputs[task][q]);
            images.Add(batch.SupportInputs[task][(int)pred[i] * shots]);
            images.Add(batch.SupportInputs[task][(int)truth[i] * shots]);
            labels.AddRange(["query", $"chosen: {pred[i]}", $"true: {truth[i]}"]);
        }
        var figure = new Figure(title ?? (images.Count == 0 ? "no errors in these episodes" : "errors: query, the class chosen, the true class (support images)"));
        // Two errors per row once there are more than one: larger images, captions that do not overlap.
        if (images.Count > 0) figure.Add(ImageGrid.FromTensor(stack(images, 0), columns: images.Count > 3 ? 6 : 3, labels: labels));
        figure.Legend = Legend.Hidden;
        return figure;
    }

    /// <summary>
    /// What a few queries of one episode (task 0 of the batch) compare themselves with: a heat-map of their scores, one
    /// row per query, under the images of its columns and of the queries, each labelled with its class. The columns are
    /// the support examples for per-example scores [M, N·K] (matching networks' attention a(x̂, xᵢ)), or the classes for
    /// per-class scores [M, N] (relation scores; the image shown is the class's first shot). Colours span `scoreRange`,
    /// by default 0…1 for scores that are all in [0, 1] (probabilities), else the scores' minimum and maximum; the
    /// colour bar states the range of the values shown.
    /// </summary>
    public static Figure QueryScores(TaskBatch episode, Tensor scores, int ways, IReadOnlyList<int> queries, string title, string scoreName = "score",
                                     (double Min, double Max)? scoreRange = null)
    {
        using var scope = NewDisposeScope();
        var s2 = scores.dim() == 3 ? scores[0] : scores;
        var (m, nk) = (episode.QueryInputs.size(1), episode.SupportInputs.size(1));
        if (s2.dim() != 2 || s2.size(0) != m || (s2.size(1) != nk && s2.size(1) != ways) || nk % ways != 0)
            throw new ArgumentException($"need the scores of the episode's {m} queries against its {nk} support examples or {ways} classes, [{m}, {nk}] or [{m}, {ways}] " +
                                        $"(or the same with a leading task dimension); got [{string.Join(", ", scores.shape)}]");
        if (queries.Count == 0 || queries.Any(q => q < 0 || q >= m))
            throw new ArgumentException($"queries must be a non-empty list of indices in 0…{m - 1}; got [{string.Join(", ", queries)}]", nameof(queries));
        var perExample = s2.size(1) == nk;
        var shots = (int)nk / ways;
        var ys = episode.SupportTargets[0].ToArray<long>();
        var yq = episode.QueryTargets[0].ToArray<long>();
        var columns = perExample ? Enumerable.Range(0, (int)nk).ToArray() : Enumerable.Range(0, ways).Select(k => Array.FindIndex(ys, y => y == k)).ToArray();
        if (columns.Any(i => i < 0)) throw new ArgumentException("every class needs a support example in the episode", nameof(episode));
        var columnLabels = perExample ? columns.Select(i => $"s{i}: class {ys[i]}").ToArray() : columns.Select(i => $"class {ys[i]}").ToArray();
        var rowLabels = queries.Select(q => $"q{q}: class {yq[q]}").ToArray();

        // The images: the columns on the first row, the queries on the next, blank tiles (zeros, the background) between.
        var width = Math.Max(columns.Length, queries.Count);
        var blank = zeros_like(episode.SupportInputs[0][0]);
        var tiles = new List<Tensor>();
        var labels = new List<string>();
        void Row(IReadOnlyList<Tensor> images, IReadOnlyList<string> names)
        {
            for (var i = 0; i < width; i++)
            {
                tiles.Add(i < images.Count ? images[i] : blank);
                labels.Add(i < images.Count ? names[i] : "");
            }
        }
        Row(columns.Select(i => episode.SupportInputs[0][i]).ToArray(), columnLabels);
        Row(queries.Select(q => episode.QueryInputs[0][q]).ToArray(), rowLabels);

        var values = s2.detach().index_select(0, tensor(queries.Select(q => (long)q).ToArray())).to(ScalarType.Float64).ToArray<double>();
        var z = new double[queries.Count, columns.Length];
        for (var r = 0; r < queries.Count; r++)
            for (var c = 0; c < columns.Length; c++) z[r, c] = values[r * columns.Length + c];

        // Colours over the scores' own range when they are probabilities (softmax, sigmoid), so that 0.17 against 0.22
        // looks as close as it is; other scores over their minimum and maximum. The colour bar states both.
        var range = scoreRange ?? (values.All(v => v is >= 0 and <= 1) ? (0.0, 1.0) : (values.Min(), values.Max()));
        var figure = Figure.Subplots(2, 1, titles: [perExample ? "support examples (columns) and queries (rows)" : "classes (columns) and queries (rows)", scoreName], title: title);
        figure.Add(ImageGrid.FromTensor(stack(tiles, 0), columns: width, labels: labels), 1, 1);
        figure.Add(new Heatmap(z)
        {
            ColumnLabels = columnLabels, RowLabels = rowLabels, ValueFormat = ".2f", ColorScale = "Blues", ReverseScale = true,
            ZMin = range.Min, ZMax = range.Max, ScaleTitle = scoreName, Name = scoreName,
        }, 2, 1);
        figure.X(2, 1).Title = perExample ? "support example" : "class";
        figure.Y(2, 1).Title = "query";
        figure.Y(2, 1).Reversed = true;
        figure.Y(2, 1).AutoMargin = true;
        figure.Legend = Legend.Hidden;
        return figure;
    }

    /// <summary>Published vs ours for one paper's Omniglot table, with the budget of each cell.</summary>
    public static Display ResultsTable(PublishedPaper paper, IEnumerable<ResultFile> results, string tableId = "omniglot")
    {
        var table = paper.Table(tableId);
        var rows = new List<object?[]>();
        foreach (var cell in results.SelectMany(r => r.Cells).Where(c => c.Table == tableId))
        {
            var row = table.Rows.FirstOrDefault(r => r.Method == cell.Method);
            var i = table.Columns.ToList().IndexOf(cell.Column);
            var published = i >= 0 ? row?.Values.ElementAtOrDefault(i) : null;
            rows.Add([cell.Method, cell.Column, published?.ToString("0.0"), $"{cell.Mean:0.00} ± {cell.Ci95:0.00}",
                      published is { } p ? $"{cell.Mean - p:+0.00;-0.00}" : "–", cell.Budget]);
        }
        return Display.Table(["method", "setting", "published", "ours (1,000 episodes, 95% CI)", "gap", "our budget"], rows, $"{paper.Title}: Omniglot");
    }
}
