using MetaNotebooks.Algorithms.Metric;
using MetaNotebooks.Figures;
using MetaNotebooks.Results;
using MetaNotebooks.Tasks;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Experiments;

/// <summary>Figures of the metric-learning chapters: training curves, a 2-D view of an episode's embeddings, errors, the table.</summary>
public static class MetricFigures
{
    /// <summary>The training loss of each model of a result file (averaged over windows of loss_curve_every episodes).</summary>
    public static Figure TrainingCurves(ResultFile result, string? title = null)
    {
        var figure = new Figure(title ?? $"{result.Experiment}: training loss");
        var i = 0;
        foreach (var (slug, node) in result.Details ?? [])
        {
            if (node?["loss_curve"] is not System.Text.Json.Nodes.JsonArray curve) continue;
            var every = node["loss_curve_every"]?.GetValue<int>() ?? 1;
            var y = curve.Select(v => v!.GetValue<double>()).ToArray();
            figure.Add(new Scatter(Enumerable.Range(1, y.Length).Select(k => (double)Math.Min(k * every, node["iterations"]!.GetValue<int>())), y) { Name = slug, Color = Palette.Get(i++) });
        }
        figure.XAxis.Title = "training episode";
        figure.YAxis.Title = "loss";
        return figure;
    }

    /// <summary>
    /// Principal-component view of one episode: the 2-D projection (top two principal directions of the episode's
    /// embeddings) of support points (circles), queries (crosses) and the class centres (stars). `embed` maps images
    /// [n, C, H, W] to [n, D]; centres are the class means of the support embeddings (ProtoNet's prototypes).
    /// </summary>
    public static Figure EpisodeEmbeddings(Func<Tensor, Tensor> embed, TaskBatch episode, int ways, string title)
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
            figure.Add(new Scatter([p[2 * c]], [p[2 * c + 1]]) { Name = $"prototype {k}", Mode = ScatterMode.Markers, Symbol = "star", Color = color, MarkerSize = 18, MarkerLineColor = "black", MarkerLineWidth = 1, LegendGroup = $"c{k}", ShowLegend = false });
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
            labels.AddRange(["query", $"chosen: class {pred[i]}", $"true: class {truth[i]}"]);
        }
        var figure = new Figure(title ?? (images.Count == 0 ? "no errors in these episodes" : "errors: query, the class chosen, the true class"));
        if (images.Count > 0) figure.Add(ImageGrid.FromTensor(stack(images, 0), columns: 3, labels: labels));
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
