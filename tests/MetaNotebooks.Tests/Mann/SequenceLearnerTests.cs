using MetaNotebooks.Algorithms.Mann;
using MetaNotebooks.Data;
using MetaNotebooks.Experiments;
using MannNetwork = MetaNotebooks.Algorithms.Mann.Mann;

namespace MetaNotebooks.Tests.Mann;

/// <summary>The MANN and LSTM learners, their input convention, the label-sequence episodes and the instance accuracy.</summary>
public class SequenceLearnerTests
{
    private static readonly MannOptions Tiny = new() { Classes = 3, InputSize = 16, Hidden = 12, Slots = 10, Width = 4, Heads = 2 };

    /// <summary>A dataset of `classes` classes × `per` 4×4 images whose pixels all equal the class index.</summary>
    private static ClassIndexedDataset Constant(int classes, int per)
    {
        using var scope = NewDisposeScope();
        var images = arange(classes).to(ScalarType.Float32).view(classes, 1).expand(classes, per).reshape(classes * per, 1, 1, 1).expand(classes * per, 1, 4, 4).contiguous();
        return new ClassIndexedDataset("constant", images, Enumerable.Range(0, classes).Select(c => $"c{c}").ToArray(), Enumerable.Repeat(per, classes).ToArray());
    }

    [Fact]
    public void ThePreviousLabelIsTheInputOfTheNextStep()
    {
        using var scope = NewDisposeScope();
        var images = rand([2, 4, 1, 2, 2]);
        var labels = tensor(new long[] { 2, 0, 1, 1, 0, 0, 2, 1 }, [2, 4]);
        var input = SequenceInput.Build(images, labels, 3);
        Assert.Equal(new long[] { 2, 4, 4 + 3 }, input.shape);
        Assert.True(input.narrow(2, 0, 4).allclose(images.flatten(2)));
        var previous = input.narrow(2, 4, 3);
        Assert.Equal(new float[] { 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0 }, previous[0].ToArray<float>());   // t = 0 sees no label
        Assert.Equal(new float[] { 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1 }, previous[1].ToArray<float>());
    }

    [Fact]
    public void BothLearnersMapASequenceBatchToLogitsPerStep()
    {
        using var scope = NewDisposeScope();
        using var mann = new MannNetwork(Tiny);
        using var lstm = new LstmBaseline(Tiny);
        var images = rand([5, 7, 1, 4, 4]);
        var labels = randint(0, 3, [5, 7]);
        Assert.Equal(new long[] { 5, 7, 3 }, mann.Logits(images, labels).shape);
        Assert.Equal(new long[] { 5, 7, 3 }, lstm.Logits(images, labels).shape);
        var (_, trace) = mann.Run(SequenceInput.Build(images, labels, 3), trace: true);
        Assert.NotNull(trace);
        using var _ = trace;
        Assert.Equal(new long[] { 5, 7, 2, 10 }, trace.ReadWeights.shape);
        Assert.Equal(new long[] { 5, 7, 2, 10 }, trace.WriteWeights.shape);
        Assert.Equal(new long[] { 5, 7, 10 }, trace.Usage.shape);
        Assert.True(trace.ReadWeights.sum(-1).allclose(ones([5, 7, 2]), 0, 1e-5));
        var e = Assert.Throws<ArgumentException>(() => mann.forward(rand([5, 7, 18])));
        Assert.Contains("[B, T, 19]", e.Message);
    }

    [Fact]
    public void EpisodesOfABatchAreIndependent()
    {
        // Batching over episodes must not mix them: an episode's logits are the same alone as in a batch.
        using var scope = NewDisposeScope();
        using var mann = new MannNetwork(Tiny, ScalarType.Float64);
        var images = rand([3, 6, 1, 4, 4], dtype: ScalarType.Float64);
        var labels = randint(0, 3, [3, 6]);
        var together = mann.Logits(images, labels);
        var alone = mann.Logits(images.narrow(0, 1, 1), labels.narrow(0, 1, 1));
        Assert.True(together.narrow(0, 1, 1).allclose(alone, 1e-12, 1e-12));
    }

    [Fact]
    public void TheMannsParameterGradientsMatchFiniteDifferences()
    {
        // The whole recurrence (controller, heads, memory, output) through the functional forward, on its output layer's bias
        // and the heads' bias: every path of the memory reaches them.
        using var scope = NewDisposeScope();
        var options = Tiny with { Hidden = 4, Slots = 4, Width = 2, Heads = 1, InputSize = 4 };
        using var mann = new MannNetwork(options, ScalarType.Float64);
        var input = SequenceInput.Build(rand([2, 4, 1, 2, 2], dtype: ScalarType.Float64), randint(0, 3, [2, 4]), 3);
        var p = mann.parameters().Select(t => t.detach()).ToArray();
        MetaNotebooks.Torch.Tests.GradCheck.Assert("Mann.forward", x =>
        {
            var q = p.ToArray();
            (q[5], q[7]) = (x[0], x[1]);
            return mann.forward(input, q);
        }, [p[5], p[7]], secondOrder: false);
    }

    [Fact]
    public void SequencesShowEachClassPerClassTimesInAShuffledOrderWithTheirInstanceNumbers()
    {
        using var data = Constant(classes: 8, per: 12);
        using var sampler = new LabelSequenceSampler(data, classes: 3, perClass: 5, seed: 7);
        using var batch = sampler.Sample(4);
        Assert.Equal(new long[] { 4, 15, 1, 4, 4 }, batch.Images.shape);
        var labels = batch.Labels.ToArray<long>();
        var instances = batch.Instances.ToArray<long>();
        var pixels = batch.Images.select(4, 0).select(3, 0).select(2, 0).ToArray<float>();
        var orders = new HashSet<string>();
        for (var b = 0; b < 4; b++)
        {
            var seen = new int[3];
            var classOf = new Dictionary<long, float>();
            for (var t = 0; t < 15; t++)
            {
                var i = b * 15 + t;
                Assert.Equal(++seen[labels[i]], instances[i]);
                // One label is one class within an episode.
                if (classOf.TryGetValue(labels[i], out var c)) Assert.Equal(c, pixels[i]);
                else classOf[labels[i]] = pixels[i];
            }
            Assert.All(seen, n => Assert.Equal(5, n));
            Assert.Equal(3, classOf.Values.Distinct().Count());
            orders.Add(string.Join(",", labels.Skip(b * 15).Take(15)));
        }
        Assert.True(orders.Count > 1, "the step order should differ between episodes");
        // The same seed gives the same sequences (what makes the MANN and the LSTM see the same episodes).
        using var again = new LabelSequenceSampler(data, 3, 5, seed: 7);
        using var same = again.Sample(4);
        Assert.True(same.Images.equal(batch.Images) && same.Labels.equal(batch.Labels));
    }

    [Fact]
    public void InstanceAccuracyCountsEachPresentationSeparately()
    {
        using var scope = NewDisposeScope();
        var labels = tensor(new long[] { 0, 1, 0, 1, 0 }, [1, 5]);
        var instances = tensor(new long[] { 1, 1, 2, 2, 3 }, [1, 5]);
        var predicted = tensor(new long[] { 1, 1, 0, 0, 0 }, [1, 5]);
        var logits = nn.functional.one_hot(predicted, 2).to(ScalarType.Float32);
        var acc = InstanceAccuracy.PerEpisode(logits, labels, instances, [1, 2, 3, 10]);
        Assert.Equal([0.5, 0.5, 1.0], acc[0][..3]);
        Assert.True(double.IsNaN(acc[0][3]));
        Assert.Equal(["1st", "2nd", "3rd", "4th", "10th", "11th", "21st", "112th"], new[] { 1, 2, 3, 4, 10, 11, 21, 112 }.Select(InstanceAccuracy.Ordinal));
    }

    [Fact]
    public void BadConfigurationsAreRejectedBeforeAnyData()
    {
        Assert.Throws<ArgumentException>(() => new MannOmniglotConfig { Episodes = 100, BatchSize = 16 }.Validate());
        Assert.Throws<ArgumentException>(() => new MannOmniglotConfig { PerClass = 21 }.Validate());
        Assert.Throws<ArgumentException>(() => new MannOmniglotConfig { Hours = double.NaN }.Validate());
        Assert.Throws<ArgumentException>(() => new MannOmniglotConfig { Sizes = new MannOptions { Heads = 200 } }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new MannOmniglotConfig { Sizes = new MannOptions { Gamma = 1.5 } }.Validate());
    }
}
