using MetaNotebooks.Algorithms.Metric;
using MetaNotebooks.Data;
using MetaNotebooks.Experiments;
using MetaNotebooks.Tests.Data;
using Xunit.Abstractions;

namespace MetaNotebooks.Tests.Metric;

/// <summary>The Siamese head on any encoder: the pair loss is the BCE of the equations; the MLP twin learns MNIST pairs.</summary>
public class SiameseMnistTests(ITestOutputHelper output)
{
    [Fact]
    public void PairLossIsTheBinaryCrossEntropyOfTheWeightedL1Logit()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(3);
        using var net = SiameseNetwork.MultiLayer([16, 8, 4], g);
        Assert.Equal("MLP Siamese Net", net.Name);
        manual_seed(2);
        var x1 = rand(6, 1, 4, 4);
        var x2 = rand(6, 1, 4, 4);
        var y = tensor(new float[] { 1, 0, 1, 0, 0, 1 });
        // By hand: h = f(x) on the flattened pixels, ℓ = Σ αⱼ|h₁ⱼ − h₂ⱼ| + b, p = σ(ℓ), BCE = −mean[y log p + (1 − y) log(1 − p)].
        var h1 = net.Encoder.forward(x1);
        var h2 = net.Encoder.forward(x2);
        Assert.Equal(new long[] { 6, 4 }, h1.shape);
        var logit = (h1 - h2).abs().mm(net.Head.weight.t()).squeeze(1) + net.Head.bias!;
        var p = logit.sigmoid();
        var bce = -(y * p.log() + (1 - y) * (1 - p).log()).mean();
        Assert.Equal(bce.item<double>(), net.PairLoss(x1, x2, y).item<double>(), 5);
        Assert.True(net.Similarity(x1, x2).allclose(p, 1e-5, 1e-6));
        // The gradient reaches both the twin and the head.
        net.PairLoss(x1, x2, y).backward();
        Assert.All(net.parameters(), q => Assert.True(q.grad is not null && q.grad.abs().sum().item<float>() > 0));
    }

    [Fact]
    public void ThePositiveWeightBalancesEpisodePairs()
    {
        using var scope = NewDisposeScope();
        var logits = tensor(new float[] { 2, -1, 0.5f, -3 });
        var same = tensor(new float[] { 1, 0, 1, 0 });
        var plain = SiameseNetwork.BinaryCrossEntropy(logits, same).item<double>();
        var weighted = SiameseNetwork.BinaryCrossEntropy(logits, same, positiveWeight: 4).item<double>();
        double Term(double l, double y, double w) => -(w * y * Math.Log(1 / (1 + Math.Exp(-l))) + (1 - y) * Math.Log(1 - 1 / (1 + Math.Exp(-l))));
        Assert.Equal((Term(2, 1, 1) + Term(-1, 0, 1) + Term(0.5, 1, 1) + Term(-3, 0, 1)) / 4, plain, 5);
        Assert.Equal((Term(2, 1, 4) + Term(-1, 0, 4) + Term(0.5, 1, 4) + Term(-3, 0, 4)) / 4, weighted, 5);
    }

    /// <summary>The distortion option changes what the twin trains on, the same way for the same seed, and rejects bad probabilities.</summary>
    [Fact]
    public void DistortedTrainingIsSeededAndDiffersFromPlainTraining()
    {
        using var g = new Generator(11);
        using var images = rand([40, 1, 28, 28], g);
        using var data = new ClassIndexedDataset("synthetic digits", images.clone(), Enumerable.Range(0, 10).Select(c => $"{c}").ToArray(), Enumerable.Repeat(4, 10).ToArray());
        double[] Losses(double distortion)
        {
            var config = new SiameseMnistConfig { Iterations = 3, PairsPerStep = 8, AccuracyEvery = 0, CurveEvery = 1, ShowProgress = false, Distortion = distortion };
            using var net = SiameseMnist.NewLearner(config);
            return SiameseMnist.Train(net, data, data, config, checkpointPath: null).LossCurve.ToArray();
        }
        var plain = Losses(0);
        var distorted = Losses(0.5);
        Assert.Equal(distorted, Losses(0.5));
        Assert.NotEqual(plain, distorted);
        Assert.Throws<ArgumentException>(() => new SiameseMnistConfig { Distortion = 1.5 }.Validate());
    }

    [RequiresMnistPackageFact]
    public void ShortTrainingOnMnistPairsBeatsChanceByFar()
    {
        set_num_threads(1);
        using var digits = MnistDigits.Load();
        // Without the distortions, which slow the first few hundred steps (they pay off later: 97.6% against 96.2% after 20,000).
        var config = new SiameseMnistConfig { Iterations = 400, ShowProgress = false, AccuracyEvery = 200, CurvePairs = 1000, Distortion = 0 };
        var (train, heldOut) = SiameseMnist.Split(digits, config);
        using var _ = train;
        using var __ = heldOut;
        Assert.Equal(10_000, train.ImageCount + heldOut.ImageCount);
        Assert.InRange(heldOut.ImageCount, 1900, 2100);
        using var net = SiameseMnist.NewLearner(config);
        var curve = new List<(int, double)>();
        var outcome = SiameseMnist.Train(net, train, heldOut, config, checkpointPath: null, (i, a) => curve.Add((i, a)));
        var pairs = SiameseMnist.PairAccuracy(net, heldOut, 2000, config.EvalSeed).Average();
        output.WriteLine($"loss {string.Join(" → ", outcome.LossCurve.Select(l => l.ToString("0.000")))}; held-out pair accuracy {string.Join(", ", curve)} → {pairs:0.000}");
        Assert.Equal([0, 200], curve.Select(c => c.Item1));
        Assert.InRange(curve[0].Item2, 0.35, 0.65);                    // untrained: chance
        Assert.True(outcome.LossCurve[^1] < 0.6 * outcome.LossCurve[0], $"loss {outcome.LossCurve[0]:0.000} → {outcome.LossCurve[^1]:0.000}");
        Assert.True(pairs > 0.8, $"held-out pair accuracy {pairs:0.000} after {config.Iterations} steps");   // 20,000 steps reach about 0.96
        // Koch's one-shot rule on the same embedding: far above the 10% of chance.
        var oneShot = MetaNotebooks.Training.EpisodeTrainer.Evaluate(net, heldOut, 10, 1, queries: 5, episodes: 100).Average();
        Assert.True(oneShot > 0.4, $"10-way 1-shot {oneShot:0.000}");
    }
}
