using System.Text.Json.Nodes;
using MetaNotebooks.Algorithms.MetaNet;
using MetaNotebooks.Experiments;
using MetaNotebooks.Figures;
using MetaNotebooks.Results;

namespace MetaNotebooks.Tests.MetaNet;

/// <summary>The MetaNet chapter's figure and tables: the LogAndSign curves are the library's LogAndSign; absent cells name their command.</summary>
public class MetaNetFiguresTests
{
    [Fact]
    public void LogAndSignCurvesDrawTheTwoFeaturesAndSaturateAtEToTheMinusK()
    {
        var figure = MetaNetFigures.LogAndSignCurves(k: 7, points: 101);
        var curves = figure.Traces.OfType<Scatter>().ToArray();
        Assert.Equal(4, curves.Length);
        var (log, positive, negative) = (curves[0], curves[1], curves[2]);
        Assert.True(figure.XAxis.Log);
        for (var i = 0; i < log.X.Count; i++)
        {
            var g = log.X[i];
            Assert.Equal(Math.Max(Math.Log(g + LogAndSign.Eps) / 7, -1), log.Y[i], 1e-9);
            Assert.Equal(Math.Clamp(g * Math.Exp(7), -1, 1), positive.Y[i], 1e-9);
            Assert.Equal(-positive.Y[i], negative.Y[i], 1e-12);
        }
        Assert.Equal(1e-9, log.X[0], 1e-15);
        Assert.Equal(10, log.X[^1], 1e-9);
        Assert.Equal(Math.Exp(-7), curves[3].X[0], 1e-12);
        Assert.Throws<ArgumentOutOfRangeException>(() => MetaNetFigures.LogAndSignCurves(points: 1));
    }

    [Fact]
    public void ComparisonShowsOursWithItsBudgetAndNamesTheCommandOfEveryAbsentCell()
    {
        var table = new PublishedTable("omniglot", "Table 1", "accuracy (%)", true, ["5-way", "20-way"], [new PublishedRow("MetaNet", [98.95, 97.0])]);
        var paper = new PublishedPaper("p", "Meta Networks", "cite", "url", new JsonObject(), [table]);
        var result = new ResultFile
        {
            Experiment = "metanet-omniglot", Paper = "p", Command = "cmd", Finished = DateTimeOffset.UnixEpoch, WallSeconds = 1, Threads = 1,
            Machine = "m", Seed = 1, Config = new JsonObject(), Cells = [new ResultCell("omniglot", "MetaNet", "5-way", 91.626, 0.502, 1000, "2,000 episodes")],
        };
        var expected = MetaNetFigures.Expected(paper, "omniglot", column => $"./mn reproduce metanet-omniglot --ways {column.Split('-')[0]}");
        Assert.Equal(["98.95", "97.00"], expected.Select(e => e.Published));
        var ablation = new ExpectedCell("omniglot", "MetaNet−", "5-way", "close to MetaNet, lower", "./mn reproduce metanet-omniglot --variant minus");

        var text = MetaNetFigures.Comparison([.. expected, ablation], [result], "caption").Text;
        var lines = text.Split('\n');
        var fiveWay = Assert.Single(lines, l => l.Contains("MetaNet ") && l.Contains("5-way"));
        Assert.Contains("91.63 ± 0.50 (1,000 test episodes)", fiveWay);
        Assert.Contains("2,000 episodes", fiveWay);
        var twentyWay = Assert.Single(lines, l => l.Contains("20-way"));
        Assert.Contains("not yet produced", twentyWay);
        Assert.Contains("`./mn reproduce metanet-omniglot --ways 20`", twentyWay);
        var minus = Assert.Single(lines, l => l.Contains("MetaNet−"));
        Assert.Contains("not yet produced", minus);
        Assert.Contains("`./mn reproduce metanet-omniglot --variant minus`", minus);
    }

    [Fact]
    public void ContinualCurveDrawsEveryPointWithItsBandAndTheLevelBeforeMnist()
    {
        var result = new ResultFile
        {
            Experiment = "metanet-omniglot", Paper = "p", Command = "cmd", Finished = DateTimeOffset.UnixEpoch, WallSeconds = 1, Threads = 1,
            Machine = "m", Seed = 1, Config = new JsonObject { ["ways"] = 5 }, Cells = [],
            Details = new JsonObject { ["continual_curve"] = JsonNode.Parse("""[{"trials":400,"episodes":200,"mean":90.5,"ci95":1.0},{"trials":0,"episodes":200,"mean":91.0,"ci95":1.2}]""") },
        };
        var figure = MetaNetFigures.ContinualCurve(result)!;
        var band = Assert.Single(figure.Traces.OfType<Band>());
        Assert.Equal([0.0, 400], band.X);
        Assert.Equal([89.8, 89.5], band.Lower.Select(v => Math.Round(v, 6)));
        Assert.Equal([92.2, 91.5], band.Upper.Select(v => Math.Round(v, 6)));
        var lines = figure.Traces.OfType<Scatter>().ToArray();
        Assert.Equal([91.0, 90.5], lines[0].Y);
        Assert.Equal([91.0, 91.0], lines[1].Y);
        Assert.Contains("5-way", figure.Title);

        Assert.Null(MetaNetFigures.ContinualCurve(result with { Details = new JsonObject() }));
    }
}
