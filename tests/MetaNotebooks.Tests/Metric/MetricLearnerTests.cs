using MetaNotebooks.Algorithms.Metric;
using MetaNotebooks.Data;
using MetaNotebooks.Models;
using MetaNotebooks.Tasks;
using MetaNotebooks.Training;

namespace MetaNotebooks.Tests.Metric;

/// <summary>Properties of the metric learners that need no data: prototypes, attention, symmetry, fixed test episodes.</summary>
public class MetricLearnerTests
{
    private static TaskBatch RandomEpisode(int tasks, int ways, int shots, int queries, long seed)
    {
        manual_seed(seed);
        var ys = tensor(Enumerable.Range(0, ways * shots).Select(i => (long)(i / shots)).ToArray()).unsqueeze(0).expand(tasks, ways * shots).contiguous();
        var yq = tensor(Enumerable.Range(0, ways * queries).Select(i => (long)(i / queries)).ToArray()).unsqueeze(0).expand(tasks, ways * queries).contiguous();
        return new TaskBatch(rand(tasks, ways * shots, 1, 28, 28), ys, rand(tasks, ways * queries, 1, 28, 28), yq);
    }

    [Fact]
    public void PrototypesAreClassMeans()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var z = randn(2, 12, 7);
        // Shuffled labels: the prototype must not depend on the support order.
        var labels = tensor(new long[] { 2, 0, 1, 2, 0, 1, 1, 2, 0, 0, 1, 2, 1, 0, 2, 2, 1, 0, 0, 1, 2, 0, 1, 2 }, [2, 12]);
        var p = PrototypicalNetwork.Prototypes(z, labels, 3);
        Assert.Equal(new long[] { 2, 3, 7 }, p.shape);
        var zv = z.ToArray<float>();
        var lv = labels.ToArray<long>();
        var pv = p.ToArray<float>();
        for (var t = 0; t < 2; t++)
            for (var k = 0; k < 3; k++)
                for (var d = 0; d < 7; d++)
                {
                    var members = Enumerable.Range(0, 12).Where(i => lv[t * 12 + i] == k).ToArray();
                    var mean = members.Average(i => zv[(t * 12 + i) * 7 + d]);
                    Assert.Equal(mean, pv[(t * 3 + k) * 7 + d], 5);
                }
    }

    [Fact]
    public void ProtoNetScoresAreNegativeSquaredDistances()
    {
        using var scope = NewDisposeScope();
        var q = tensor(new float[] { 0, 0, 3, 4 }, [1, 2, 2]);
        var c = tensor(new float[] { 0, 0, 1, 0 }, [1, 2, 2]);
        var s = PrototypicalNetwork.NegativeSquaredDistances(q, c).ToArray<float>();
        Assert.Equal(new float[] { 0, -1, -25, -20 }, s.Select(v => MathF.Round(v, 4)).ToArray());
    }

    [Fact]
    public void FullContextAttentionSumsToOne()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(5);
        using var net = new MatchingNetwork(new ConvEncoder(generator: g), fullContext: true, readSteps: 3, generator: g);
        using var batch = RandomEpisode(2, 5, 2, 3, 11);
        var z = net.Encoder.Embed(batch.SupportInputs);
        var gS = net.SupportEmbedding(z);
        var (f, attention) = net.QueryEmbedding(net.Encoder.Embed(batch.QueryInputs), gS);
        Assert.Equal(3, attention.Count);
        foreach (var a in attention)
        {
            Assert.Equal(new long[] { 2, 15, 10 }, a.shape);
            Assert.True(a.sum(2).sub(1).abs().max().item<float>() < 1e-5);
            Assert.True(a.min().item<float>() >= 0);
        }
        Assert.Equal(new long[] { 2, 15, 64 }, f.shape);
        // The cosine attention of the read-out and the class probabilities sum to 1 as well.
        var p = net.Scores(batch, 5);
        Assert.True(p.sum(2).sub(1).abs().max().item<float>() < 1e-5);
    }

    [Fact]
    public void SiameseDistanceIsSymmetric()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(7);
        using var net = SiameseNetwork.Convolutional(g);
        net.eval();
        manual_seed(1);
        var a = rand(6, 1, 28, 28);
        var b = rand(6, 1, 28, 28);
        var ab = net.Similarity(a, b).ToArray<float>();
        var ba = net.Similarity(b, a).ToArray<float>();
        for (var i = 0; i < 6; i++) Assert.Equal(ab[i], ba[i], 6);
        Assert.All(ab, v => Assert.InRange(v, 0f, 1f));
    }

    [Fact]
    public void RelationScoresAreInUnitIntervalWithOneHotShape()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(9);
        using var net = new RelationNetwork(generator: g);
        using var batch = RandomEpisode(2, 5, 3, 2, 4);
        var r = net.Scores(batch, 5);
        Assert.Equal(new long[] { 2, 10, 5 }, r.shape);
        Assert.True(r.min().item<float>() >= 0 && r.max().item<float>() <= 1);
        Assert.True(double.IsFinite(net.Loss(batch, 5).item<double>()));
    }

    [Fact]
    public void BestPerClassFastPathMatchesTheMaskedPath()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        var scores = randn(3, 4, 10);
        var ordered = tensor(Enumerable.Range(0, 10).Select(i => (long)(i / 2)).ToArray()).unsqueeze(0).expand(3, 10).contiguous();
        var fast = EpisodeMetrics.BestPerClass(scores, ordered, 5);
        // Same labels with the support permuted (and the scores with them): the general path.
        var perm = new long[] { 9, 3, 0, 7, 1, 5, 2, 8, 4, 6 };
        var idx = tensor(perm);
        var slow = EpisodeMetrics.BestPerClass(scores.index_select(2, idx), ordered.index_select(1, idx), 5);
        Assert.True(fast.equal(slow));
    }

    [Fact]
    public void EvaluationEpisodesAreTheSameForEveryMethodAndForEmbeddings()
    {
        using var scope = NewDisposeScope();
        manual_seed(0);
        var images = rand(200, 1, 4, 4);
        using var data = new ClassIndexedDataset("toy", images, Enumerable.Range(0, 10).Select(i => $"c{i}").ToArray(), Enumerable.Repeat(20, 10).ToArray());
        // The embedded copy a method evaluates on: one number per image.
        using var embedded = new ClassIndexedDataset("toy (embedded)", images.sum([1, 2, 3]).view(200, 1, 1, 1), data.ClassNames, Enumerable.Repeat(20, 10).ToArray());
        using var a = EpisodeTrainer.EvaluationEpisodes(data, 5, 1, 3);
        using var b = EpisodeTrainer.EvaluationEpisodes(data, 5, 1, 3);
        using var e = EpisodeTrainer.EvaluationEpisodes(embedded, 5, 1, 3);
        for (var round = 0; round < 3; round++)
        {
            using var x = a.Sample(4);
            using var y = b.Sample(4);
            using var z = e.Sample(4);
            Assert.True(x.SupportInputs.equal(y.SupportInputs) && x.QueryInputs.equal(y.QueryInputs) && x.QueryTargets.equal(y.QueryTargets));
            Assert.True(x.SupportInputs.sum([2, 3, 4]).allclose(z.SupportInputs.flatten(2).squeeze(2)));
            Assert.True(x.QueryInputs.sum([2, 3, 4]).allclose(z.QueryInputs.flatten(2).squeeze(2)));
        }
        // A different setting draws different episodes.
        using var c = EpisodeTrainer.EvaluationEpisodes(data, 5, 2, 3);
        using var u = c.Sample(1);
        using var v = EpisodeTrainer.EvaluationEpisodes(data, 5, 1, 3).Sample(1);
        Assert.False(u.QueryInputs.equal(v.QueryInputs));
    }
}
