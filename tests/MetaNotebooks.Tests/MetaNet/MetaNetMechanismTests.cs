using MetaNotebooks.Algorithms.MetaNet;
using MetaNotebooks.Data;
using MetaNotebooks.Models;
using MetaNotebooks.Tasks;
using MetaNetLearner = MetaNotebooks.Algorithms.MetaNet.MetaNet;

namespace MetaNotebooks.Tests.MetaNet;

/// <summary>The mechanism measurements: each branch's share of each layer's output, and accuracy with the fast weights zeroed.</summary>
public class MetaNetMechanismTests
{
    private const int Ways = 5;

    [Fact]
    public void OutputSharesSplitEachLayerBetweenTheBranches()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(9);
        using var net = new AugmentedConvNet(3, generator: g, dtype: ScalarType.Float64, filters: 6);
        var x = rand([4, 1, 28, 28], g, ScalarType.Float64);
        var slow = net.Slow(3);
        var zero = new WeightSet(slow.Convs.Select(w => zeros_like(w)).ToArray(), zeros_like(slow.Fc1), zeros_like(slow.Head!));
        var doubled = new WeightSet(slow.Convs.Select(w => 2 * w).ToArray(), 2 * slow.Fc1, 2 * slow.Head!);

        var (active, share) = AugmentedConvNet.BranchActivity(x, [slow, slow]);
        Assert.Equal(new long[] { 2, AugmentedConvNet.Blocks + 2 }, share.shape);
        Assert.True(share.allclose(full([2, AugmentedConvNet.Blocks + 2], 0.5, ScalarType.Float64), 0, 1e-12));   // identical branches: half each
        Assert.True(active.equal(AugmentedConvNet.ActiveFraction(x, [slow, slow])));

        (_, share) = AugmentedConvNet.BranchActivity(x, [slow, zero]);
        Assert.Equal(0, share[1].abs().sum().item<double>());                  // a zero branch contributes nothing …
        Assert.True(share[0].allclose(ones([AugmentedConvNet.Blocks + 2], ScalarType.Float64)));

        // … and a branch with twice the weights, on the same input, twice as much in its first layer (ReLU is
        // positively homogeneous): a share of 2/3.
        (_, share) = AugmentedConvNet.BranchActivity(x, [slow, doubled]);
        Assert.Equal(2 / 3.0, share[1, 0].item<double>(), 12);
        Assert.True((share[0] + share[1]).allclose(ones([AugmentedConvNet.Blocks + 2], ScalarType.Float64)));

        // Without heads (u's keys) the head column is 0.
        (_, share) = AugmentedConvNet.BranchActivity(x, [slow with { Head = null }]);
        Assert.Equal(0, share[0, AugmentedConvNet.Blocks + 1].item<double>());
    }

    private static TaskBatch Problem(ulong seed)
    {
        using var g = new Generator(seed);
        var xs = rand([1, Ways, 1, 28, 28], g, ScalarType.Float64);
        var xq = rand([1, 3 * Ways, 1, 28, 28], g, ScalarType.Float64);
        Tensor Labels(int per) => tensor(Enumerable.Range(0, Ways * per).Select(i => (long)(i / per)).ToArray(), [1, Ways * per]);
        return new TaskBatch(xs, Labels(1), xq, Labels(3));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ZeroedFastWeightsLeaveBWithItsSlowBranchesAndHiddenZeroingKeepsTheHead(bool metaNetPlus)
    {
        using var scope = NewDisposeScope();
        using var batch = Problem(5);
        using var metanet = new MetaNetLearner(new MetaNetOptions { Filters = 8, Seed = 3, BaseTaskFastWeights = metaNetPlus }, ScalarType.Float64);
        var (xs, ys, xq, yq) = (batch.SupportInputs[0], batch.SupportTargets[0], batch.QueryInputs[0], batch.QueryTargets[0]);
        var (activity, accuracy, zeroed, zeroedHidden) = MetaNetMechanism.Episode(metanet, batch, Ways);

        var run = metanet.Run(xs, ys, xq, Ways);
        double Accuracy(Tensor logits) => logits.argmax(1).eq(yq).to(ScalarType.Float64).mean().item<double>();
        Assert.Equal(Accuracy(run.Logits), accuracy);
        var slow = metanet.Network.Base.Slow(Ways);
        var fast = metanet.ExampleFastWeights(run, Ways);
        var baseTask = metaNetPlus ? metanet.Generate(metanet.Information(xs, ys, Ways), Ways).BaseTask : null;
        IReadOnlyList<WeightSet> Without(WeightSet? exampleFast) => exampleFast is null
            ? baseTask is null ? [slow] : [slow, baseTask]
            : metanet.BaseBranches(exampleFast, baseTask, Ways);
        Assert.Equal(Accuracy(AugmentedConvNet.Logits(xq, Without(null))), zeroed);
        var headOnly = new WeightSet(fast.Convs.Select(w => zeros_like(w)).ToArray(), zeros_like(fast.Fc1), fast.Head);
        Assert.Equal(Accuracy(AugmentedConvNet.Logits(xq, Without(headOnly))), zeroedHidden);

        // The activity is the example-level branch's row of BranchActivity on the queries.
        var (active, share) = AugmentedConvNet.BranchActivity(xq, metanet.BaseBranches(fast, baseTask, Ways));
        Assert.Equal(active[metanet.ExampleBranchIndex].ToArray<double>(), activity.Active);
        Assert.Equal(share[metanet.ExampleBranchIndex].ToArray<double>(), activity.Share);
        Assert.Equal(1, metanet.ExampleBranchIndex);
    }

    [Fact]
    public void MeasureAveragesFixedEpisodesAndPairsTheDifferences()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(4);
        using var images = rand([Ways * 3, 1, 28, 28], g, ScalarType.Float32);
        using var data = new ClassIndexedDataset("random", images, Enumerable.Range(0, Ways).Select(c => $"c{c}").ToArray(), Enumerable.Repeat(3, Ways).ToArray());
        using var metanet = new MetaNetLearner(new MetaNetOptions { Filters = 8, Seed = 3, FastWeightScale = FastWeightScale.FanIn });
        var m = MetaNetMechanism.Measure(metanet, data, Ways, shots: 1, queries: 2, episodes: 3);
        var again = MetaNetMechanism.Measure(metanet, data, Ways, shots: 1, queries: 2, episodes: 3);
        Assert.Equal(m.Accuracy, again.Accuracy);                                   // fixed episodes
        Assert.Equal(3, m.Accuracy.Count);
        Assert.Equal(MetaNetMechanism.HiddenLayers.Count, m.FastActiveFraction.Count);
        Assert.Equal(MetaNetMechanism.Layers.Count, m.FastOutputShare.Count);
        Assert.All(m.FastOutputShare, s => Assert.InRange(s, 0, 1));
        Assert.Equal(100 * (m.Accuracy.Average() - m.AccuracyWithoutFastWeights.Average()), m.Cost.Mean, 9);
        Assert.Equal(100 * (m.Accuracy.Average() - m.AccuracyWithoutHiddenFastWeights.Average()), m.HiddenCost.Mean, 9);
        Assert.Throws<ArgumentOutOfRangeException>(() => MetaNetMechanism.Measure(metanet, data, Ways, 1, 2, episodes: 0));
    }
}
