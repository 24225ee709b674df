using MetaNotebooks.Algorithms.Metric;
using MetaNotebooks.Experiments;
using MetaNotebooks.Tasks;
using MetaNotebooks.Tests.Data;
using Xunit.Abstractions;

namespace MetaNotebooks.Tests.Metric;

/// <summary>Relation networks on Mini-ImageNet: the authors' network shapes, and short seeded training on the real images. One libtorch thread.</summary>
[Collection(MiniImageNetSplitsCollection.Name)]
public class RelationMiniImageNetTests(MiniImageNetSplits data, ITestOutputHelper output)
{
    [Fact]
    public void TheMiniImageNetNetworkHasTheAuthorsShapes()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(1);
        using var net = RelationNetwork.MiniImageNet(g);
        net.eval();
        // 84×84 → 64×19×19 feature maps (two pooled blocks without padding); the relation module 19 → 8 → 3, FC 576 → 8.
        Assert.Equal(new long[] { 2, 64, 19, 19 }, net.EmbedImages(rand(2, 3, 84, 84)).shape);
        Assert.Equal(new long[] { 8, 576 }, net.Hidden.weight.shape);
        using var batch = new TaskBatch(rand(1, 5, 3, 84, 84), arange(5L).unsqueeze(0), rand(1, 10, 3, 84, 84), arange(10L).remainder(5).unsqueeze(0));
        var r = net.Scores(batch, 5);
        Assert.Equal(new long[] { 1, 10, 5 }, r.shape);
        Assert.True(r.min().item<float>() > 0 && r.max().item<float>() < 1);
    }

    [Fact]
    public void TheCellsAreTheAuthorsEpisodes()
    {
        var one = MetricMiniImageNet.Relation(1, 10);
        var five = MetricMiniImageNet.Relation(5, 10, seed: 2);
        Assert.Equal(("relation-miniimagenet-1shot", "Relation Net", 5, 1, 15), (one.Experiment, one.Method, one.Runs[0].Training.Ways, one.Runs[0].Training.Shots, one.Runs[0].Training.Queries));
        Assert.Equal(("relation-miniimagenet-5shot-seed2", "Relation Net (seed 2)", 10), (five.Experiment, five.Method, five.Runs[0].Training.Queries));
        Assert.Equal((600, 15, "train", "miniimagenet"), (one.EvalEpisodes, one.EvalQueries, one.TrainPart, one.TableId));
        Assert.Equal([(5, 5)], five.Runs[0].Evaluations);
        Assert.Equal(0.5, one.Runs[0].Training.ClipGradNorm);
    }

    [RequiresDataFact(MiniImageNetSplits.TrainCsv, MiniImageNetSplits.TestCsv, MiniImageNetSplits.Images)]
    public void ThreeHundredSeededEpisodesOnRealImagesScoreAboveChance()
    {
        // The cell's network and optimiser, on 5-way 1-shot episodes with 5 queries per class instead of 15.
        var learner = MetricMiniImageNet.NewRelation(7);
        using var model = learner.Model;
        ShortMiniImageNetTraining.LiftsAboveChance(learner, MetricMiniImageNet.Relation(1, 300).Runs[0].Training with { Queries = 5 }, data, output);
    }
}
