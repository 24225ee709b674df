using MetaNotebooks.Algorithms.MetaLearner;
using MetaNotebooks.Experiments;
using MetaNotebooks.Figures;
using MetaNotebooks.Results;

namespace MetaNotebooks.Tests.MetaLearner;

/// <summary>The chapter's figures and table: one line per layer in each gate plot, one per method with its band, every published row.</summary>
public class MetaLearnerFiguresTests
{
    [Fact]
    public void TheGatePlotHasOneLinePerLayerInEachPanel()
    {
        var gates = new GateTrace(["layer 1", "head"], [[0.01, 0.02], [0.03, 0.04], [0.05, 0.06]], [[0.99, 0.98], [0.97, 0.96], [0.95, 0.94]]);
        var figure = MetaLearnerFigures.GateValues(gates, "Gates of a two-layer learner over three updates");
        var lines = figure.Traces.OfType<Scatter>().ToList();
        Assert.Equal(4, lines.Count);
        // Per layer: its input gate (left panel), then its forget gate (right panel, the legend entry shared).
        Assert.Equal(["layer 1", "layer 1", "head", "head"], lines.Select(l => l.Name));
        Assert.Equal([1.0, 2, 3], lines[0].X);
        Assert.Equal([0.99, 0.97, 0.95], lines[1].Y);     // layer 1's forget gate
        Assert.Equal([0.02, 0.04, 0.06], lines[2].Y);     // the head's input gate
        Assert.Equal([true, false, true, false], lines.Select(l => l.ShowLegend != false));
    }

    [Fact]
    public void TheAccuracyPlotHasALineAndABandPerMethodAndRefusesMismatchedRows()
    {
        var figure = MetaLearnerFigures.AccuracyPerUpdate("Query accuracy after each update (synthetic)",
            ("SGD", [0, 1], [[20.0, 22, 24], [30.0, 32, 34]]), ("learned", [0, 1], [[20.0, 20, 20], [40.0, 42, 44]]));
        Assert.Equal(2, figure.Traces.OfType<Band>().Count());
        var learned = figure.Traces.OfType<Scatter>().Single(s => s.Name == "learned");
        Assert.Equal([20.0, 42], learned.Y);
        Assert.Throws<ArgumentException>(() => MetaLearnerFigures.AccuracyPerUpdate("mismatched", ("SGD", [0, 1, 2], [[20.0, 22]])));
    }

    [Fact]
    public void TheTableListsEveryPublishedRowAndOurCellWhereThereIsOne()
    {
        var paper = PublishedPaper.Load(Path.Combine(RepositoryRoot.Find(), "papers", MetaLearnerMiniImageNet.PaperId, "published.json"));
        var result = new ResultFile
        {
            Experiment = "metalearner-miniimagenet-5w1s", Paper = MetaLearnerMiniImageNet.PaperId, Command = "test", Finished = DateTimeOffset.UtcNow,
            WallSeconds = 1, Threads = 1, Machine = "test", Seed = 1, Config = new(),
            Cells = [new ResultCell("miniimagenet", MetaLearnerMiniImageNetConfig.MethodName, "1-shot", 41.234, 0.8, 600, "test")],
        };
        var text = MetaLearnerFigures.Table(paper, [result]).ToString();
        foreach (var row in paper.Table("miniimagenet").Rows) Assert.Contains(row.Method, text);
        Assert.Contains("41.23 ± 0.80", text);
        Assert.Contains("43.44 ± 0.77", text);
    }
}
