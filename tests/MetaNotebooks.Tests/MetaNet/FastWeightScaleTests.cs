using MetaNotebooks.Algorithms.MetaNet;
using MetaNotebooks.Experiments;
using MetaNotebooks.Models;
using MetaNotebooks.Tasks;
using MetaNetLearner = MetaNotebooks.Algorithms.MetaNet.MetaNet;

namespace MetaNotebooks.Tests.MetaNet;

/// <summary>
/// <see cref="FastWeightScale.FanIn"/>: every generated layer centred and put at its slow weights' initial scale
/// 1/√fan-in, against the authors' unscaled fast weights (the default, unchanged).
/// </summary>
public class FastWeightScaleTests
{
    private const int Ways = 5;

    private static TaskBatch Problem(ulong seed = 7, int queries = 2)
    {
        using var g = new Generator(seed);
        var xs = rand([1, Ways, 1, 28, 28], g, ScalarType.Float64);
        var xq = rand([1, Ways * queries, 1, 28, 28], g, ScalarType.Float64);
        Tensor Labels(int per) => tensor(Enumerable.Range(0, Ways * per).Select(i => (long)(i / per)).ToArray(), [1, Ways * per]);
        return new TaskBatch(xs, Labels(1), xq, Labels(queries));
    }

    [Fact]
    public void FanInScaleIsOneOverRootFanInOfEachCoordinatesTensor()
    {
        using var scope = NewDisposeScope();
        var layout = new WeightLayout([[8, 1, 3, 3], [8, 8, 3, 3], [5, 8]]);
        var s = layout.FanInScale(ScalarType.Float64).ToArray<double>();
        Assert.Equal(72 + 576 + 40, s.Length);
        Assert.All(s[..72], v => Assert.Equal(1 / 3.0, v, 12));
        Assert.All(s[72..648], v => Assert.Equal(1 / Math.Sqrt(72), v, 12));
        Assert.All(s[648..], v => Assert.Equal(1 / Math.Sqrt(8), v, 12));
    }

    /// <summary>Same seed, so the same m and d: the scaled memory, Q* and MetaNet+'s weights are the unscaled ones, centred per layer and times 1/√fan-in.</summary>
    [Fact]
    public void FanInCentresEveryGeneratedLayerAndScalesItByOneOverRootFanIn()
    {
        using var scope = NewDisposeScope();
        using var batch = Problem();
        var options = new MetaNetOptions { Filters = 8, Seed = 11, BaseTaskFastWeights = true };
        using var plain = new MetaNetLearner(options, ScalarType.Float64);
        using var scaled = new MetaNetLearner(options with { FastWeightScale = FastWeightScale.FanIn }, ScalarType.Float64);
        var (xs, ys) = (batch.SupportInputs[0], batch.SupportTargets[0]);
        var a = plain.Generate(plain.Information(xs, ys, Ways), Ways);
        var b = scaled.Generate(scaled.Information(xs, ys, Ways), Ways);

        void Check(Tensor generated, Tensor expectedFrom, long fanIn, string what)
        {
            var expected = (expectedFrom - expectedFrom.mean()) / Math.Sqrt(fanIn);
            Assert.True(generated.allclose(expected, 1e-10, 1e-12), $"{what}: off by {(generated - expected).abs().max().item<double>()}");
        }
        // Memory rows: one per support example, each layer's part centred separately.
        var layouts = new[] { (plain.Network.ConvLayout, a.MemoryConv, b.MemoryConv), (plain.Network.BaseFcLayout(Ways), a.MemoryFc, b.MemoryFc) };
        foreach (var (layout, rawMemory, scaledMemory) in layouts)
            for (var i = 0; i < Ways; i++)
            {
                var raw = layout.Split(rawMemory[i]);
                var got = layout.Split(scaledMemory[i]);
                for (var l = 0; l < raw.Length; l++)
                {
                    var fanIn = layout.Shapes[l].Skip(1).Aggregate(1L, (x, y) => x * y);
                    Check(got[l], raw[l], fanIn, $"memory row {i}, tensor {l}");
                    Assert.True(Math.Abs(got[l].mean().item<double>()) < 1e-12);
                }
            }
        // Q* (u's fast weights) and MetaNet+'s task-level weights of b.
        foreach (var (raw, got) in new[] { (a.Task!, b.Task!), (a.BaseTask!, b.BaseTask!) })
            foreach (var (r, g) in raw.Tensors.Zip(got.Tensors))
                Check(g, r, r.shape.Skip(1).Aggregate(1L, (x, y) => x * y), "task-level fast weight");
        // The default is the authors' code: fast weights as generated.
        Assert.Equal(FastWeightScale.None, new MetaNetOptions().FastWeightScale);
    }

    /// <summary>
    /// The full-size model at initialisation on random images: unscaled, the fast branches blow the trunk's features up
    /// by six orders of magnitude (the exploding first loss); centred and scaled, by two at most, and the first loss is
    /// within a small factor of chance.
    /// </summary>
    [Fact]
    public void FanInKeepsTheFirstLossWithinAFactorOfChance()
    {
        using var scope = NewDisposeScope();
        using var batch = Problem(queries: 2);
        var ratios = new Dictionary<FastWeightScale, double>();
        var losses = new Dictionary<FastWeightScale, double>();
        foreach (var scale in new[] { FastWeightScale.None, FastWeightScale.FanIn })
        {
            using var inner = NewDisposeScope();
            using var metanet = new MetaNetLearner(new MetaNetOptions { Seed = 1, FastWeightScale = scale });
            var (xs, ys, xq) = (batch.SupportInputs[0].to(ScalarType.Float32), batch.SupportTargets[0], batch.QueryInputs[0].to(ScalarType.Float32));
            var run = metanet.Run(xs, ys, xq, Ways);
            var slow = metanet.Network.Base.Slow(Ways);
            var fast = metanet.ExampleFastWeights(run, Ways);
            ratios[scale] = AugmentedConvNet.Features(xq, [slow, fast]).abs().mean().item<float>() / AugmentedConvNet.Features(xq, [slow]).abs().mean().item<float>();
            losses[scale] = metanet.Loss(new TaskBatch(xs.unsqueeze(0), ys.unsqueeze(0), xq.unsqueeze(0), batch.QueryTargets), Ways).item<float>();
        }
        var chance = 2 * Ways * Math.Log(Ways);
        // Measured (seed 1, these images): features 6.8·10⁶ vs 83 times the slow trunk's; first losses 1.9·10⁷ vs 193 (chance 16).
        // The fast weights are not random: m writes each coordinate from its gradient, which follows the input's pattern,
        // so even at 1/√fan-in the fast branch outweighs a random kernel of that spread.
        Assert.True(ratios[FastWeightScale.None] > 1e5, $"unscaled: features only {ratios[FastWeightScale.None]:g3}× the slow ones");
        Assert.True(ratios[FastWeightScale.FanIn] < 1e3, $"fan-in: features {ratios[FastWeightScale.FanIn]:g3}× the slow ones");
        Assert.True(losses[FastWeightScale.None] > 1e4 * chance, $"unscaled first loss {losses[FastWeightScale.None]:g3} (chance {chance:g3})");
        Assert.True(losses[FastWeightScale.FanIn] < 50 * chance, $"fan-in first loss {losses[FastWeightScale.FanIn]:g3} (chance {chance:g3})");
    }

    [Fact]
    public void TheScaledModelHasItsOwnNameResultAndCheckpointFiles()
    {
        var authors = new MetaNetOmniglotConfig();
        var scaled = new MetaNetOmniglotConfig { Model = new MetaNetOptions { FastWeightScale = FastWeightScale.FanIn } };
        var minus = new MetaNetOmniglotConfig { Model = new MetaNetOptions { TaskLevelFastWeights = false, FastWeightScale = FastWeightScale.FanIn } };
        Assert.Equal("metanet-5way", authors.Slug);                 // the committed results' names are unchanged
        Assert.Equal("metanet-fan-in-scaled-5way", scaled.Slug);
        Assert.Equal("metanet-minus-fan-in-scaled-5way", minus.Slug);
        Assert.Equal("MetaNet (fan-in scaled)", scaled.ModelOptions.Name);
        Assert.Equal("FanIn", scaled.ToJson()["fast_weight_scale"]!.GetValue<string>());
        var paper = Path.Combine(Path.GetTempPath(), "paper");
        Assert.NotEqual(new MetaNetOmniglot(authors, paper).CheckpointPath, new MetaNetOmniglot(scaled, paper).CheckpointPath);
        Assert.NotEqual(new MetaNetOmniglot(authors, paper).ResultPath, new MetaNetOmniglot(scaled, paper).ResultPath);
        Assert.Throws<ArgumentOutOfRangeException>(() => new MetaNetOptions { FastWeightScale = (FastWeightScale)7 }.Validate());
    }
}
