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
            return SiameseMnist.Train(net, new SiameseMnistSplit(data, data, data), config, checkpointPath: null).LossCurve.ToArray();
        }
        var plain = Losses(0);
        var distorted = Losses(0.5);
        Assert.Equal(distorted, Losses(0.5));
        Assert.NotEqual(plain, distorted);
        Assert.Throws<ArgumentException>(() => new SiameseMnistConfig { Distortion = 1.5 }.Validate());
    }

    /// <summary>One-shot learning is tested on new classes: no image of an unseen digit, and no held-out image, is trained on.</summary>
    [Fact]
    public void TheSplitKeepsTheUnseenDigitsOutOfTraining()
    {
        using var g = new Generator(5);
        using var digits = new ClassIndexedDataset("synthetic digits", rand([100, 1, 28, 28], g), Enumerable.Range(0, 10).Select(c => $"{c}").ToArray(), Enumerable.Repeat(10, 10).ToArray());
        var config = new SiameseMnistConfig { UnseenDigits = [1, 3, 5, 7, 9] };
        using var split = SiameseMnist.Split(digits, config);
        Assert.Equal(["0", "2", "4", "6", "8"], split.Train.ClassNames);
        Assert.Equal(["0", "2", "4", "6", "8"], split.SeenHeldOut.ClassNames);
        Assert.Equal(["1", "3", "5", "7", "9"], split.Unseen.ClassNames);
        Assert.Equal(40, split.Train.ImageCount);       // the first 80% of each seen digit
        Assert.Equal(10, split.SeenHeldOut.ImageCount); // the other 20%
        Assert.Equal(50, split.Unseen.ImageCount);      // every image of the unseen digits
        // The held-out images of digit 0 are its last two: rows 8 and 9 of the dataset.
        Assert.True(split.SeenHeldOut.ClassImages(0).equal(digits.Images.narrow(0, 8, 2)));
        Assert.True(split.Unseen.ClassImages(0).equal(digits.Images.narrow(0, 10, 10)));
        Assert.Contains("5 digits", Assert.Throws<ArgumentException>(() => new SiameseMnistConfig { UnseenDigits = [7, 8, 9] }.Validate()).Message);
        Assert.Throws<ArgumentException>(() => new SiameseMnistConfig { UnseenDigits = [5, 6, 7, 8, 10] }.Validate());
    }

    [RequiresMnistPackageFact]
    public void ShortTrainingOnMnistPairsBeatsChanceByFarOnUnseenDigits()
    {
        set_num_threads(1);
        using var digits = MnistDigits.Load();
        // Without the distortions, which slow the first few hundred steps.
        var config = new SiameseMnistConfig { Iterations = 400, ShowProgress = false, AccuracyEvery = 200, CurvePairs = 1000, Distortion = 0 };
        using var split = SiameseMnist.Split(digits, config);
        Assert.Equal(10_000, split.Train.ImageCount + split.SeenHeldOut.ImageCount + split.Unseen.ImageCount);
        Assert.InRange(split.Unseen.ImageCount, 4500, 5500);
        using var net = SiameseMnist.NewLearner(config);
        var curve = new List<SiameseMnist.CurvePoint>();
        var outcome = SiameseMnist.Train(net, split, config, checkpointPath: null, curve.Add);
        var unseen = SiameseMnist.PairAccuracy(net, split.Unseen, 2000, config.EvalSeed).Average();
        var seen = SiameseMnist.PairAccuracy(net, split.SeenHeldOut, 2000, config.EvalSeed).Average();
        output.WriteLine($"loss {string.Join(" → ", outcome.LossCurve.Select(l => l.ToString("0.000")))}; pair accuracy {string.Join(", ", curve)} → unseen {unseen:0.000}, seen {seen:0.000}");
        Assert.Equal([0, 200], curve.Select(c => c.Iteration));
        Assert.InRange(curve[0].Unseen, 0.35, 0.65);                   // untrained: chance
        Assert.True(outcome.LossCurve[^1] < 0.6 * outcome.LossCurve[0], $"loss {outcome.LossCurve[0]:0.000} → {outcome.LossCurve[^1]:0.000}");
        Assert.True(seen > 0.8, $"pair accuracy on held-out images of seen digits {seen:0.000} after {config.Iterations} steps");
        // New digits are the hard question: after 400 steps the twin is only just above chance on them (0.58 pair
        // accuracy, 0.29 5-way 1-shot over 2,500 queries, seed 1), far below the 0.96 on new images of the seen digits.
        Assert.True(unseen > 0.54, $"pair accuracy on unseen digits {unseen:0.000} after {config.Iterations} steps");
        var oneShot = MetaNotebooks.Training.EpisodeTrainer.Evaluate(net, split.Unseen, SiameseMnist.Ways, 1, queries: 5, episodes: 100).Average();
        output.WriteLine($"5-way 1-shot on unseen digits {oneShot:0.000}");
        Assert.True(oneShot > 0.24, $"5-way 1-shot on unseen digits {oneShot:0.000} (chance 0.2)");
    }
}
