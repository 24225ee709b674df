using System.Text.Json.Nodes;
using MetaNotebooks.Algorithms.Metric;
using MetaNotebooks.Data;
using MetaNotebooks.Experiments;
using MetaNotebooks.Figures;
using MetaNotebooks.Models;
using MetaNotebooks.Results;
using MetaNotebooks.Tasks;
using MetaNotebooks.Torch;
using MetaNotebooks.Training;
using Xunit.Abstractions;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Notebooks.Tests;

/// <summary>
/// Issue 22, item 7: every figure the library builds has a title that fits its width and labelled axes, integer data
/// gets integer ticks, subplot grids leave room for their labels, legends show names and heat maps state their range.
/// </summary>
public class FigureLayoutTests(ITestOutputHelper output)
{
    private static readonly string Papers = Path.Combine(Repository.Root, "papers");

    /// <summary>Every experiment id of the committed results (what a legend must not show).</summary>
    internal static IReadOnlyCollection<string> ExperimentIds() =>
        Directory.GetFiles(Papers, "*.json", SearchOption.AllDirectories).Where(f => Path.GetFileName(Path.GetDirectoryName(f)) == "results")
            .Select(f => JsonNode.Parse(File.ReadAllText(f))?["experiment"]?.GetValue<string>()).OfType<string>().ToHashSet();

    private static ResultFile Result(string paper, string file) => ResultFile.Load(Path.Combine(Papers, paper, "results", file));

    /// <summary>Each figure builder of the library, on committed results or small synthetic data.</summary>
    public static TheoryData<string> Builders() => new(BuilderNames);

    private static readonly string[] BuilderNames =
    [
        "MamlFigures.TrainingLoss", "MamlFigures.AccuracyVsIterations", "MamlSineFigures.MseVersusSteps", "MamlSineFigures.TrainingCurves",
        "MamlSineFigures.AdaptationOnOneTask", "MetricFigures.TrainingCurves", "MetricFigures.LossCurves", "MetricFigures.EpisodeEmbeddings",
        "MetricFigures.Errors", "MetricFigures.QueryScores", "MetaNetFigures.LogAndSignCurves", "MetaNetFigures.ContinualCurve",
        "DatasetFigures.Samples", "MannFigures.Addressing", "MannFigures.InstanceCurves", "MannFigures.Sequence",
    ];

    private static Figure Build(string name)
    {
        using var scope = NewDisposeScope();
        var maml = Directory.GetFiles(Path.Combine(Papers, "finn2017-maml", "results"), "maml-omniglot-*.json").Order().Select(ResultFile.Load).ToList();
        return name switch
        {
            "MamlFigures.TrainingLoss" => MamlFigures.TrainingLoss(maml),
            "MamlFigures.AccuracyVsIterations" => MamlFigures.AccuracyVsIterations(maml.Where(r => r.Cells[0].Column == "5-way 1-shot").ToList(),
                                                                                     PublishedPaper.Load(Path.Combine(Papers, "finn2017-maml", "published.json"))),
            "MamlSineFigures.MseVersusSteps" => MamlSineFigures.MseVersusSteps(Result("finn2017-maml", "maml-sine.json")),
            "MamlSineFigures.TrainingCurves" => MamlSineFigures.TrainingCurves(Result("finn2017-maml", "maml-sine.json")),
            "MamlSineFigures.AdaptationOnOneTask" => MamlSineFigures.AdaptationOnOneTask(
                [("MAML", new Mlp([1, 8, 1], new Generator(1))), ("pretrained", new Mlp([1, 8, 1], new Generator(2)))],
                2.0, 1.0, linspace(-4, 4, 5).unsqueeze(-1)),
            "MetricFigures.TrainingCurves" => MetricFigures.TrainingCurves(Result("snell2017-prototypical", "protonet-omniglot.json"), "Training loss of the committed run"),
            "MetricFigures.LossCurves" => MetricFigures.LossCurves("Training loss, 20-way 1-shot episodes, two learning rates",
                ("lr 1e-3", new TrainingOutcome(100, true, [3.0, 2.1, 1.7, 1.5, 1.4], 20, 10)), ("lr 1e-4", new TrainingOutcome(100, true, [3.0, 2.8, 2.6, 2.5, 2.4], 20, 10))),
            "MetricFigures.EpisodeEmbeddings" => MetricFigures.EpisodeEmbeddings(x => x.flatten(1), Episode(), 3, "A 3-way 2-shot episode in pixel space (PCA)"),
            "MetricFigures.Errors" => MetricFigures.Errors(new WrongClassifier(), Episode(), 3),
            "MetricFigures.QueryScores" => MetricFigures.QueryScores(Episode(), softmax(randn([6, 6], new Generator(3)), 1), 3, [0, 2, 4],
                                                                     "Attention a(x̂, xᵢ) of three queries over a 3-way 2-shot support set", "a(x̂, xᵢ)"),
            "MetaNetFigures.LogAndSignCurves" => MetaNetFigures.LogAndSignCurves(),
            "MetaNetFigures.ContinualCurve" => MetaNetFigures.ContinualCurve(Result("munkhdalai2017-metanet", "metanet-omniglot-metanet-5way.json"))!,
            "DatasetFigures.Samples" => DatasetFigures.Samples(new ClassIndexedDataset("synthetic digits", rand([12, 1, 8, 8], new Generator(4)), ["a", "b", "c"], [4, 4, 4]), 3, 4),
            "MannFigures.Addressing" => MannAddressing(),
            "MannFigures.Sequence" => MannFigures.Sequence(new LabelSequenceBatch(rand([1, 12, 1, 20, 20], new Generator(8)), randint(0, 3, [1, 12], new Generator(9)), ones([1, 12], ScalarType.Int64))),
            "MannFigures.InstanceCurves" => MannFigures.InstanceCurves(
                [InstanceCurve.Of("MANN", [1, 2, 3], [[0.2, 0.6, 0.8], [0.4, 0.8, 1.0]]), InstanceCurve.Of("LSTM", [1, 2, 3], [[0.2, 0.4, 0.4], [0.2, 0.6, 0.6]])],
                PublishedPaper.Load(Path.Combine(Papers, "santoro2016-mann", "published.json"))),
            _ => throw new ArgumentException(name),
        };
    }

    /// <summary>The memory heat maps of an untrained small MANN over one random 12-step episode.</summary>
    private static Figure MannAddressing()
    {
        using var mann = new MetaNotebooks.Algorithms.Mann.Mann(new MetaNotebooks.Algorithms.Mann.MannOptions { Classes = 3, InputSize = 4, Hidden = 8, Slots = 16, Width = 4, Heads = 2 });
        var labels = randint(0, 3, [1, 12], new Generator(6));
        var (_, trace) = mann.Run(MetaNotebooks.Algorithms.Mann.SequenceInput.Build(rand([1, 12, 1, 2, 2], new Generator(7)), labels, 3), trace: true);
        using var _ = trace!;
        return MannFigures.Addressing(trace!);
    }

    /// <summary>A 3-way 2-shot episode of random 1×6×6 images, 2 queries per class.</summary>
    private static TaskBatch Episode()
    {
        var g = new Generator(5);
        var labels = tensor(new long[] { 0, 0, 1, 1, 2, 2 }).unsqueeze(0);
        return new TaskBatch(rand([1, 6, 1, 6, 6], g), labels, rand([1, 6, 1, 6, 6], g), labels.clone());
    }

    private sealed class WrongClassifier : IEpisodeClassifier
    {
        public string Name => "always the next class";
        public Tensor Scores(TaskBatch batch, int ways) =>
            nn.functional.one_hot((batch.QueryTargets + 1).remainder(ways), ways).to(ScalarType.Float32);
    }

    [Theory]
    [MemberData(nameof(Builders))]
    public void EveryBuilderHasATitleThatFitsAndLabelledAxes(string builder)
    {
        var figure = Build(builder);
        var ids = ExperimentIds();
        foreach (var width in new[] { figure.Width, 420 })
        {
            figure.Width = width;
            var problems = FigureRules.Problems(JsonNode.Parse(figure.ToJson())!, width, ids);
            foreach (var p in problems) output.WriteLine($"{builder} at {width} px: {p}");
            Assert.Empty(problems);
        }
    }

    [Fact]
    public void TheRulesCatchWhatIssue22Found()
    {
        // A figure as the library drew them before: a title too long for 720 px, fractional ticks, an id in the legend,
        // an unlabelled axis and a heat map without its scale. Written as raw JSON, so the check does not depend on the layout code.
        var json = JsonNode.Parse("""
            {"data": [{"type": "scatter", "name": "fomaml", "showlegend": true, "x": [0, 1, 2, 3], "y": [20, 100, 100, 100], "xaxis": "x", "yaxis": "y"},
                      {"type": "scatter", "name": "1shot", "showlegend": true, "x": [0, 1, 2, 3], "y": [20, 96, 96, 96], "xaxis": "x", "yaxis": "y"},
                      {"type": "heatmap", "name": "r", "z": [[0.15, 0.24]], "colorscale": "Blues", "showscale": false, "xaxis": "x", "yaxis": "y"}],
             "layout": {"title": {"text": "One test task (5-way 1-shot, 25 queries): query accuracy after each SGD step (α = 0.4)"},
                        "margin": {"l": 60, "r": 20}, "xaxis": {"domain": [0, 1], "title": {"text": "gradient steps"}}, "yaxis": {"domain": [0, 1]}}}
            """)!;
        var problems = FigureRules.Problems(json, 720, ExperimentIds());
        foreach (var p in problems) output.WriteLine(p);
        Assert.Contains(problems, p => p.StartsWith("title line"));
        Assert.Contains(problems, p => p.Contains("integer ticks"));
        Assert.Contains(problems, p => p.Contains("\"fomaml\""));
        Assert.Contains(problems, p => p.Contains("\"1shot\""));
        Assert.Contains(problems, p => p == "yaxis has tick labels but no title");
        Assert.Contains(problems, p => p.Contains("hides its colour scale"));
        Assert.Equal(6, problems.Count);
    }

    [Fact]
    public void ALongTitleWrapsAndTheFigureGrowsByItsExtraLine()
    {
        var figure = new Figure("One test task (5-way 1-shot, 25 queries): query accuracy after each SGD step (α = 0.4)");
        figure.Add(new Scatter([0.0, 1, 2, 3], [20.0, 100, 100, 100]) { Name = "MAML" });
        var layout = JsonNode.Parse(figure.ToJson())!["layout"]!;
        var title = layout["title"]!["text"]!.GetValue<string>();
        output.WriteLine(title);
        Assert.Equal(2, TextWidth.Lines(title).Count);
        Assert.Equal(figure.Title, title.Replace("<br>", " "));
        Assert.True(figure.DrawnHeight > figure.Height, $"drawn {figure.DrawnHeight} px, set {figure.Height} px");
        Assert.Equal(figure.DrawnHeight, layout["height"]!.GetValue<int>());

        var shortTitle = new Figure("Loss") { Width = 720 };
        Assert.Equal("Loss", JsonNode.Parse(shortTitle.ToJson())!["layout"]!["title"]!["text"]!.GetValue<string>());
        Assert.Equal(shortTitle.Height, shortTitle.DrawnHeight);
    }

    [Fact]
    public void FitShrinksThenWrapsThenBreaksWords()
    {
        var slightly = "A title a little wider than its room";
        var width = TextWidth.Estimate(slightly, 17) - 3;
        var (text, lines, size) = TextWidth.Fit(slightly, width, 17, 12);
        Assert.Equal((slightly, 1), (text, lines));
        Assert.True(size < 17);

        var (wrapped, n, _) = TextWidth.Fit(string.Join(" ", Enumerable.Repeat("word", 40)), 200, 17, 12);
        Assert.True(n > 2);
        Assert.All(TextWidth.Lines(wrapped), l => Assert.True(TextWidth.Estimate(l, 12) <= 200, l));

        var (broken, _, _) = TextWidth.Fit(new string('m', 80), 100, 17, 12);
        Assert.All(TextWidth.Lines(broken), l => Assert.True(TextWidth.Estimate(l, 12) <= 100, l));
        Assert.Equal(new string('m', 80), broken.Replace("<br>", ""));
        Assert.Throws<ArgumentOutOfRangeException>(() => TextWidth.Fit("x", 0, 17, 12));
    }

    [Fact]
    public void WholeNumberDataGetsWholeNumberTicks()
    {
        var steps = new Figure("steps");
        steps.Add(new Scatter([0.0, 1, 2, 3], [0.5, 0.9, 0.95, 0.96]));
        var x = JsonNode.Parse(steps.ToJson())!["layout"]!["xaxis"]!;
        Assert.Equal(1, x["dtick"]!.GetValue<double>());
        Assert.Equal(0, x["tick0"]!.GetValue<double>());
        Assert.Null(JsonNode.Parse(steps.ToJson())!["layout"]!["yaxis"]!["dtick"]);   // fractional data: Plotly's ticks

        var iterations = new Figure("iterations");
        iterations.Add(new Scatter([0.0, 5000, 17000], [1.0, 0.5, 0.3]));
        Assert.Equal(2000, JsonNode.Parse(iterations.ToJson())!["layout"]!["xaxis"]!["dtick"]!.GetValue<double>());   // 9 ticks on ~580 px

        var off = new Figure("positions");
        off.Add(new Scatter([0.0, 1, 2], [1.0, 2, 3]));
        off.XAxis.Integer = false;
        Assert.Null(JsonNode.Parse(off.ToJson())!["layout"]!["xaxis"]!["dtick"]);

        // Ten whole numbers on a 100 px axis: every other one.
        var narrow = Figure.Subplots(1, 4, titles: ["a", "b", "c", "d"], title: "ways");
        narrow.Add(new Scatter(Enumerable.Range(0, 11).Select(i => (double)i), Enumerable.Range(0, 11).Select(i => i * 0.5)), 1, 1);
        Assert.Equal(2, JsonNode.Parse(narrow.ToJson())!["layout"]!["xaxis"]!["dtick"]!.GetValue<double>());
    }

    [Fact]
    public void LogAxesGetAsManyLabelsAsTheirLengthHolds()
    {
        var grid = Figure.Subplots(2, 2, titles: ["a", "b", "c", "d"], title: "loss");
        grid.Add(new Scatter([1.0, 2, 3], [2.0, 0.5, 0.04]), 1, 1);                  // 1.7 decades in ~250 px: 1-2-5
        grid.Add(new Scatter([1.0, 2, 3], [100.0, 1, 1e-4]), 1, 2);                  // 6 decades in ~250 px: powers of ten
        grid.Y(1, 1).Log = true;
        grid.Y(1, 2).Log = true;
        var layout = JsonNode.Parse(grid.ToJson())!["layout"]!;
        Assert.Equal("D2", layout["yaxis"]!["dtick"]!.GetValue<string>());
        Assert.Equal(1, layout["yaxis2"]!["dtick"]!.GetValue<double>());
    }

    [Fact]
    public void GridGapsHoldTickLabelsAxisTitlesAndTheSubplotTitleBelow()
    {
        var figure = Build("MamlFigures.TrainingLoss");
        var layout = JsonNode.Parse(figure.ToJson())!["layout"]!;
        double Px(double paper) => paper * (figure.DrawnHeight - layout["margin"]!["t"]!.GetValue<double>() - layout["margin"]!["b"]!.GetValue<double>());
        var upperBottom = layout["yaxis"]!["domain"]![0]!.GetValue<double>();
        var lowerTop = layout["yaxis3"]!["domain"]![1]!.GetValue<double>();
        var gap = Px(upperBottom - lowerTop);
        output.WriteLine($"gap between rows: {gap:0} px");
        // Tick labels and the x title of the upper plot (~64 px, as Plotly draws them) and the lower plot's title (~24 px).
        Assert.True(gap >= 88, $"{gap:0} px");
    }

    [Fact]
    public void HeatMapsStateTheirRangeAndProbabilitiesKeepTheirScale()
    {
        var figure = Build("MetricFigures.QueryScores");
        var heat = JsonNode.Parse(figure.ToJson())!["data"]!.AsArray().Single(t => t!["type"]!.GetValue<string>() == "heatmap" && t["hoverinfo"] is null)!;
        Assert.True(heat["showscale"]!.GetValue<bool>());
        Assert.Equal((0, 1), (heat["zmin"]!.GetValue<double>(), heat["zmax"]!.GetValue<double>()));
        var caption = heat["colorbar"]!["title"]!["text"]!.GetValue<string>();
        output.WriteLine(caption);
        Assert.Matches(@"^a\(x̂, xᵢ\): values 0\.\d+ … 0\.\d+$", caption);

        var z = new double[,] { { -3, 1 }, { 2, 7.5 } };
        var plain = new Figure("scores").Add(new Heatmap(z));
        var bar = JsonNode.Parse(plain.ToJson())!["data"]![0]!["colorbar"]!;
        Assert.Equal("values -3 … 7.5", bar["title"]!["text"]!.GetValue<string>());
        var close = new Figure("close").Add(new Heatmap(new double[,] { { 0.20001, 0.20004 } }) { ScaleTitle = "p" });
        Assert.Equal("p: values 0.20001 … 0.20004", JsonNode.Parse(close.ToJson())!["data"]![0]!["colorbar"]!["title"]!["text"]!.GetValue<string>());
    }

    [Fact]
    public void SeriesNamesNameTheIdsResultsUse()
    {
        Assert.Equal("first-order MAML", SeriesNames.Of("fomaml"));
        Assert.Equal("5-shot", SeriesNames.Of("5shot"));
        Assert.Equal("30-way", SeriesNames.Of("30way"));
        Assert.Equal("loss", SeriesNames.Of("loss"));
        var proto = Result("snell2017-prototypical", "protonet-omniglot.json");
        Assert.Equal("model trained 60-way 1-shot", SeriesNames.Of(proto, "1shot"));
        var legend = JsonNode.Parse(MetricFigures.TrainingCurves(proto).ToJson())!["data"]!.AsArray().Select(t => t!["name"]!.GetValue<string>());
        Assert.Equal(["model trained 60-way 1-shot", "model trained 60-way 5-shot"], legend);
        Assert.Equal("MAML-ish", JsonNode.Parse(MetricFigures.TrainingCurves(proto, names: new Dictionary<string, string> { ["1shot"] = "MAML-ish" }).ToJson())!["data"]![0]!["name"]!.GetValue<string>());

        var ids = new HashSet<string> { "protonet-miniimagenet-1shot" };
        Assert.True(SeriesNames.IsInternalId("maml", ids));
        Assert.True(SeriesNames.IsInternalId("protonet-miniimagenet-1shot (30way training)", ids));
        Assert.False(SeriesNames.IsInternalId("MAML, 5-way 1-shot (ours)", ids));
        Assert.False(SeriesNames.IsInternalId("pretrained network (ours)", ids));
        Assert.False(SeriesNames.IsInternalId("centred, 1/√fan-in", ids));
    }

    /// <summary>
    /// Through real headless Chromium and plotly.js: the fitted title lines of figures at several widths are inside the
    /// figure as drawn, each no wider than <see cref="TextWidth"/> estimated, and no subplot title overlaps an axis title.
    /// </summary>
    [Fact]
    public void TitlesFitAndNothingOverlapsAsChromiumDrawsIt()
    {
        if (HeadlessBrowser.Find() is null || PlotlyJs.FindLocal() is null)
        {
            output.WriteLine("SKIPPED: Chromium or plotly.js is not installed (./mn setup installs both; MN_NPM_PREFIX may point at another checkout's .local/npm).");
            return;
        }
        var cases = new List<(string Name, Figure Figure)>
        {
            ("long title at 720 px", Build("MetricFigures.LossCurves")),
            ("2×2 loss grid", Build("MamlFigures.TrainingLoss")),
            ("heat map", Build("MetricFigures.QueryScores")),
        };
        var adaptation = new Figure("One test task (5-way 1-shot, 25 queries): query accuracy after each SGD step (α = 0.4), 3 learners") { Width = 520 };
        adaptation.Add(new Scatter([0.0, 1, 2, 3], [20.0, 96, 96, 96]) { Name = "first-order MAML" });
        adaptation.XAxis.Title = "gradient steps on the support set";
        adaptation.YAxis.Title = "query accuracy (%)";
        cases.Add(("long title at 520 px", adaptation));
        var narrow = Figure.Subplots(1, 3, titles: ["k-shot regression with a long subplot title, k = 5", "k = 10", "k = 20"], title: "Query MSE against gradient steps, 600 test tasks, 95% CI");
        narrow.Width = 560;
        for (var c = 1; c <= 3; c++)
        {
            narrow.Add(new Scatter([0.0, 1, 2], [3.0, 1, 0.5]) { Name = $"learner {c}" }, 1, c);
            narrow.X(1, c).Title = "steps";
        }
        narrow.Y(1, 1).Title = "MSE";
        cases.Add(("narrow 1×3 grid", narrow));

        using var temp = new TempFolder();
        foreach (var (name, figure) in cases)
        {
            var measured = Measure(figure, temp);
            output.WriteLine($"{name}: {measured.ToJsonString()}");
            var width = figure.Width;
            var title = measured["title"]!.AsObject();
            Assert.True(title["left"]!.GetValue<double>() >= 0 && title["right"]!.GetValue<double>() <= width, $"{name}: title drawn at {title.ToJsonString()} in {width} px");
            var size = JsonNode.Parse(figure.ToJson())!["layout"]!["title"]!["font"]!["size"]!.GetValue<double>();
            foreach (var line in measured["titleLines"]!.AsArray())
            {
                var (text, drawn) = (line!["text"]!.GetValue<string>(), line["width"]!.GetValue<double>());
                Assert.True(TextWidth.Estimate(text, size) >= drawn, $"{name}: \"{text}\" drawn {drawn:0} px, estimated {TextWidth.Estimate(text, size):0} px");
                Assert.True(TextWidth.Estimate(text, size) <= 1.4 * drawn + 10, $"{name}: \"{text}\" estimate {TextWidth.Estimate(text, size):0} px is far above the drawn {drawn:0} px");
            }
            var annotations = measured["annotations"]!.AsArray().Select(Box).ToArray();
            var axisTitles = measured["axisTitles"]!.AsArray().Select(Box).ToArray();
            foreach (var a in annotations)
            {
                Assert.True(a.Left >= 0 && a.Right <= width, $"{name}: annotation {a} outside the figure");
                foreach (var t in axisTitles) Assert.False(Overlap(a, t), $"{name}: annotation {a} overlaps axis title {t}");
            }
        }
    }

    private sealed record Rect(double Left, double Top, double Right, double Bottom);

    private static Rect Box(JsonNode? n) => new(n!["left"]!.GetValue<double>(), n["top"]!.GetValue<double>(), n["right"]!.GetValue<double>(), n["bottom"]!.GetValue<double>());

    private static bool Overlap(Rect a, Rect b) => a.Left < b.Right && b.Left < a.Right && a.Top < b.Bottom && b.Top < a.Bottom;

    /// <summary>Draws the figure in headless Chromium and reads back where its title, annotations and axis titles are.</summary>
    private static JsonNode Measure(Figure figure, TempFolder temp)
    {
        var json = figure.ToJson();
        var height = figure.DrawnHeight;
        var page = temp.File("measure.html");
        File.WriteAllText(page,
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><script src=\"" + new Uri(PlotlyJs.FindLocal()!).AbsoluteUri + "\"></script></head>" +
            $"<body style=\"margin:0\"><div id=\"f\" style=\"width:{figure.Width}px;height:{height}px\"></div><pre id=\"m\"></pre><script>" +
            "var f = " + json.Replace("</", "<\\/") + ";" +
            """
            Plotly.newPlot('f', f.data, f.layout, {staticPlot: true}).then(function () {
              function box(e) { var r = e.getBoundingClientRect(); return {left: r.left, top: r.top, right: r.right, bottom: r.bottom}; }
              var t = document.querySelector('.gtitle');
              var ctx = document.createElement('canvas').getContext('2d');
              var style = getComputedStyle(t);
              ctx.font = style.fontSize + ' ' + style.fontFamily;
              var lines = f.layout.title.text.split('<br>').map(function (s) { return {text: s, width: ctx.measureText(s).width}; });
              var out = {title: box(t), titleLines: lines,
                         annotations: Array.from(document.querySelectorAll('.annotation')).filter(function (a) { return a.textContent.length > 0; }).map(box),
                         axisTitles: Array.from(document.querySelectorAll('.g-xtitle text, .g-ytitle text, [class^="g-x"][class$="title"] text, [class^="g-y"][class$="title"] text')).map(box)};
              document.getElementById('m').textContent = JSON.stringify(out);
            });
            """ + "</script></body></html>");
        var chromium = HeadlessBrowser.Find()!;
        var result = Repository.Run(chromium,
            ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions", "--force-device-scale-factor=1",
             $"--user-data-dir={temp.File("profile")}", "--virtual-time-budget=10000", $"--window-size={figure.Width},{height + 200}", "--dump-dom", new Uri(page).AbsoluteUri],
            temp.Path, TimeSpan.FromMinutes(2));
        var start = result.Stdout.IndexOf("<pre id=\"m\">", StringComparison.Ordinal);
        Assert.True(start >= 0 && result.ExitCode == 0, $"Chromium did not report the measurements: {result}");
        var text = result.Stdout[(start + "<pre id=\"m\">".Length)..];
        text = System.Net.WebUtility.HtmlDecode(text[..text.IndexOf("</pre>", StringComparison.Ordinal)]);
        Assert.False(string.IsNullOrEmpty(text), $"plotly.js did not draw the figure: {result}");
        return JsonNode.Parse(text)!;
    }
}
