using MetaNotebooks.Experiments;
using MetaNotebooks.Tasks;
using MetaNotebooks.Tests.Data;
using MetaNotebooks.Training;
using Xunit.Abstractions;

namespace MetaNotebooks.Tests.Metric;

/// <summary>Matching networks with full-context embeddings on Mini-ImageNet: the cell's network and episodes, and short seeded training on the real images. One libtorch thread.</summary>
[Collection(MiniImageNetSplitsCollection.Name)]
public class MatchingMiniImageNetTests(MiniImageNetSplits data, ITestOutputHelper output)
{
    [Fact]
    public void TheCellsNetworkReadsTheWholeEmbeddingWithFullContext()
    {
        using var scope = NewDisposeScope();
        var net = MetricMiniImageNet.NewMatching(1);
        using var model = net.Model;
        Assert.True(net.FullContext);
        // 84×84 → 64·5·5 = 1,600-d embeddings, and LSTMs that wide (input and hidden).
        Assert.Equal(new long[] { 2, 1600 }, net.EmbedImages(rand(2, 3, 84, 84)).flatten(1).shape);
        using var batch = new TaskBatch(rand(1, 5, 3, 84, 84), arange(5L).unsqueeze(0), rand(1, 10, 3, 84, 84), arange(10L).remainder(5).unsqueeze(0));
        var p = net.Scores(batch, 5);
        Assert.Equal(new long[] { 1, 10, 5 }, p.shape);
        Assert.True(double.IsFinite(net.Loss(batch, 5).item<double>()));
    }

    [Fact]
    public void TheCellsAreOnRaviAndLarochellesTable()
    {
        var one = MetricMiniImageNet.Matching(1, 10);
        var five = MetricMiniImageNet.Matching(5, 10);
        Assert.Equal(("matching-fce-miniimagenet-1shot", "Matching Nets FCE", "miniimagenet-ravi"), (one.Experiment, one.Method, one.TableId));
        Assert.Equal((5, 1, 15), (one.Runs[0].Training.Ways, one.Runs[0].Training.Shots, one.Runs[0].Training.Queries));
        Assert.Equal([(5, 5)], five.Runs[0].Evaluations);
        Assert.Equal((600, 15), (five.EvalEpisodes, five.EvalQueries));
    }

    [RequiresDataFact(MiniImageNetSplits.TrainCsv, MiniImageNetSplits.TestCsv, MiniImageNetSplits.Images)]
    public void TwoHundredSeededEpisodesOnRealImagesScoreAboveChance()
    {
        set_num_threads(1);
        // The cell's network and optimiser, on 5-way 1-shot episodes with 5 queries per class instead of 15.
        var learner = MetricMiniImageNet.NewMatching(7);
        using var model = learner.Model;
        var options = MetricMiniImageNet.Matching(1, 200).Runs[0].Training with { Queries = 5, CurveEvery = 50, ShowProgress = false };
        var outcome = EpisodeTrainer.Train(learner, data.Train, options, checkpointPath: null);
        var after = EpisodeTrainer.Percent(EpisodeTrainer.Evaluate(learner, data.Test, 5, 1, 15, episodes: 50));
        output.WriteLine($"loss per 50 episodes {string.Join(" → ", outcome.LossCurve.Select(l => l.ToString("0.000")))}; " +
                         $"5-way 1-shot on the first 50 shared test episodes: {after} after {options.Iterations} episodes (chance 20%)");
        Assert.True(outcome.LossCurve[^1] < outcome.LossCurve[0], $"the loss went from {outcome.LossCurve[0]:0.000} to {outcome.LossCurve[^1]:0.000}");
        Assert.True(after.Mean - after.Ci95 > 20, $"after {options.Iterations} episodes: {after}, not above chance (20%)");
    }
}
