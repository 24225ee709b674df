using MetaNotebooks.Experiments;
using MetaNotebooks.Tasks;
using MetaNotebooks.Tests.Data;
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

    [SlowRequiresDataFact(20, MiniImageNetSplits.TrainCsv, MiniImageNetSplits.TestCsv, MiniImageNetSplits.Images)]
    public void ThreeHundredSeededEpisodesOnRealImagesScoreAboveChance()
    {
        // The cell's network (1,600-wide FCE LSTMs) and optimiser, on 5-way 1-shot episodes with 5 queries per class instead of 15.
        // What it shows (seed 7, one thread): the loss per 50 episodes 1.892 → 1.563 → 1.499 → 1.494 → 1.504 → 1.484 (chance
        // ln 5 = 1.609) and 30.45 ± 1.90% on the first 50 shared test episodes; ~20 CPU minutes (1 h 8 min on the loaded machine).
        var learner = MetricMiniImageNet.NewMatching(7);
        using var model = learner.Model;
        ShortMiniImageNetTraining.LiftsAboveChance(learner, MetricMiniImageNet.Matching(1, 300).Runs[0].Training with { Queries = 5 }, data, output);
    }
}
