using MetaNotebooks.Algorithms;
using MetaNotebooks.Algorithms.MetaLearner;
using MetaNotebooks.Algorithms.MetaNet;
using MetaNotebooks.Models;
using MetaNotebooks.Tasks;
using F = MetaNotebooks.Torch.torch.nn.functional;

namespace MetaNotebooks.Tests.MetaLearner;

/// <summary>
/// The meta-learner LSTM (Ravi &amp; Larochelle 2017) in float64 on a tiny learner: its cell-state update is gradient
/// descent when f = 1 and i = α; it is one small LSTM applied to every coordinate; its meta-gradient is the first-order
/// one (the learner's gradients as data) and matches finite differences.
/// </summary>
public class MetaLearnerLstmTests
{
    /// <summary>MAML's Mini-ImageNet network shrunk to 16×16 images and 2 filters (P = 201), with a 5-way 1-shot 3-query task.</summary>
    private static (MetaLearnerLstm MetaLearner, TaskBatch Task) TinyProblem(int seed = 3, int shots = 1)
    {
        using var g = new Generator((ulong)seed);
        var learner = MamlConvNet.MiniImageNet(5, g, ScalarType.Float64, filters: 2, imageSize: 16);
        var metaLearner = new MetaLearnerLstm(learner, g);
        var labels = arange(5L).unsqueeze(1).expand(5, shots).reshape(1, -1);     // class by class, as the episode sampler
        var task = new TaskBatch(rand([1, 5 * shots, 3, 16, 16], g, ScalarType.Float64), labels,
                                 rand([1, 15, 3, 16, 16], g, ScalarType.Float64), arange(5L).unsqueeze(1).expand(5, 3).reshape(1, -1));
        return (metaLearner, task);
    }

    [Fact]
    public void WithForgetGateOneAndInputGateAlphaTheCellUpdateIsGradientDescent()
    {
        using var scope = NewDisposeScope();
        var theta = randn([1000], dtype: ScalarType.Float32);
        var gradient = randn([1000], dtype: ScalarType.Float32);
        const double alpha = 0.01;
        var update = MetaLearnerLstm.Update(theta, gradient, ones([1000]), full([1000], alpha));
        Assert.True(update.equal(theta - alpha * gradient), "c_t = 1 ⊙ c_{t−1} + α ⊙ (−∇) should be θ − α∇ to the last bit");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void GatesPinnedAtOneAndAlphaTrainTheLearnerExactlyAsSgd(int steps)
    {
        var (metaLearner, task) = TinyProblem();
        using var _ = metaLearner;
        using var __ = task;
        using var scope = NewDisposeScope();
        const double alpha = 0.1;
        var p = metaLearner.parameters();
        using (no_grad())
        {
            p[3].zero_(); p[5].zero_();                       // the gates read nothing …
            p[4].fill_(40);                                    // … f = σ(40) = 1 in float64
            p[6].fill_(Math.Log(alpha / (1 - alpha)));         // … i = σ(logit α) = α
        }
        var mine = LearnedUpdate.Train(metaLearner, task.SupportInputs[0], task.SupportTargets[0], new LearnedUpdateOptions { Steps = steps, BatchSize = 5 }, createGraph: false);
        // Plain SGD from the learner's own initial parameters, by MAML's inner loop (first order).
        var learner = metaLearner.Learner;
        var maml = new Algorithms.Maml(learner, TaskLosses.CrossEntropy);
        var sgd = maml.Adapt(learner.parameters(), task.SupportInputs, task.SupportTargets, steps, alpha, createGraph: false);
        var expected = metaLearner.Layout.Flatten(sgd);
        var gap = (mine.Parameters - expected).abs().max().item<double>();
        Assert.True(gap < 1e-12, $"after {steps} update(s) the meta-learner's θ differs from SGD's by {gap}");
        Assert.True((mine.Forget - 1).abs().max().item<double>() == 0 && (mine.Input - alpha).abs().max().item<double>() < 1e-15);
    }

    [Fact]
    public void EveryCoordinateRunsTheSameSmallLstm()
    {
        var (metaLearner, _) = TinyProblem();
        using var __ = metaLearner;
        using var scope = NewDisposeScope();
        using var g = new Generator(9);
        var p = metaLearner.parameters();
        using (no_grad()) foreach (var t in p.Take(7)) t.normal_(0, 0.5, g);   // weights that matter
        var count = metaLearner.Layout.Count;
        // Two steps, so that the first layer's recurrent weights and the fed-back gates take part.
        var s = metaLearner.Start();
        var losses = new[] { tensor(1.7), tensor(0.3) };
        var gradients = new[] { randn([count], g, ScalarType.Float64) * 1e-3, randn([count], g, ScalarType.Float64) };
        var states = new List<MetaLearnerState> { s };
        for (var t = 0; t < 2; t++) states.Add(metaLearner.Step(states[^1], losses[t], gradients[t]));

        // Coordinate by coordinate, with libtorch's own LSTM cell on a batch of one row and the gates written out.
        foreach (var j in new long[] { 0, 57, count - 1 })
        {
            var h = zeros([1, MetaLearnerLstm.Hidden], ScalarType.Float64);
            var c = zeros([1, MetaLearnerLstm.Hidden], ScalarType.Float64);
            var theta = p[7][j].reshape(1, 1);
            var (f, i) = (zeros([1, 1], ScalarType.Float64), zeros([1, 1], ScalarType.Float64));
            for (var t = 0; t < 2; t++)
            {
                var x = cat([LogAndSign.Apply(losses[t].reshape(1), 10), LogAndSign.Apply(gradients[t][j].reshape(1), 10)], 1);   // [1, 4]
                (h, c) = F.lstm_cell(x, (h, c), p[0], p[1], p[2]);
                f = F.linear(cat([h, theta, f], 1), p[3], p[4]).sigmoid();
                i = F.linear(cat([h, theta, i], 1), p[5], p[6]).sigmoid();
                theta = f * theta - i * gradients[t][j].reshape(1, 1);
                var mine = states[t + 1];
                Assert.Equal(theta.item<double>(), mine.Parameters[j].item<double>(), 12);
                Assert.Equal(f.item<double>(), mine.Forget[0, j].item<double>(), 12);
                Assert.Equal(i.item<double>(), mine.Input[0, j].item<double>(), 12);
                Assert.True(h.allclose(mine.Hidden!.narrow(1, j, 1).t(), 1e-12, 1e-12), $"coordinate {j}, step {t + 1}: the first layer's state differs");
            }
        }
        // The LSTM's weights do not depend on how many coordinates it serves: a learner 20 times larger gets the same shapes.
        using var big = new MetaLearnerLstm(MamlConvNet.MiniImageNet(5, null, ScalarType.Float64, filters: 16, imageSize: 32));
        Assert.True(big.Layout.Count > 20 * count);
        Assert.Equal(p.Take(7).Select(t => t.shape), big.parameters().Take(7).Select(t => t.shape));
    }

    [Fact]
    public void TheUntrainedMetaLearnerIsNearlySgdWithASmallStep()
    {
        var (metaLearner, task) = TinyProblem();
        using var _ = metaLearner;
        using var __ = task;
        var trace = new List<(double[] Input, double[] Forget)>();
        LearnedUpdate.Train(metaLearner, task.SupportInputs[0], task.SupportTargets[0], new LearnedUpdateOptions { Steps = 4, BatchSize = 5 }, createGraph: false, trace).Parameters.Dispose();
        var gates = LearnedUpdate.Summarise(metaLearner.Layout, trace, 4);
        Assert.Equal(["layer 1", "layer 2", "layer 3", "layer 4", "head"], gates.Layers);
        // b_F ~ U(4, 5), b_I ~ U(−5, −4) and weights of ±0.01: f ≈ σ(4.5) ≈ 0.99, i ≈ 0.01.
        Assert.All(gates.Forget.SelectMany(r => r), f => Assert.InRange(f, 0.975, 0.995));
        Assert.All(gates.Input.SelectMany(r => r), i => Assert.InRange(i, 0.005, 0.025));
    }

    [Fact]
    public void MetaGradientIsTheFirstOrderOneAndMatchesFiniteDifferences()
    {
        var (metaLearner, task) = TinyProblem(seed: 4);
        using var _ = metaLearner;
        using var __ = task;
        using var scope = NewDisposeScope();
        var options = new LearnedUpdateOptions { Steps = 3, BatchSize = 5 };
        var p = metaLearner.parameters();
        using (no_grad())
        {
            using var g = new Generator(12);
            foreach (var t in p.Take(7)) t.add_(randn(t.shape, g, ScalarType.Float64) * 0.3);   // gates away from saturation
            p[4].fill_(1.5); p[6].fill_(-1);
        }
        var (x, y, xq, yq) = (task.SupportInputs[0], task.SupportTargets[0], task.QueryInputs[0], task.QueryTargets[0]);
        var analytic = autograd.grad(LearnedUpdate.MetaLoss(metaLearner, task, options), p);

        // The learner's losses and gradients along the way, recorded once: the first-order meta-loss reads them as data.
        var recorded = new List<(Tensor Loss, Tensor Gradient)>();
        var s = metaLearner.Start();
        using (no_grad())
            for (var t = 0; t < options.Steps; t++)
            {
                var (l, gr) = LearnedUpdate.LossAndGradient(metaLearner, s.Parameters, x, y);
                recorded.Add((l, gr));
                s = metaLearner.Step(s, l, gr);
            }
        Tensor Replay(IReadOnlyList<Tensor> q)
        {
            var state = metaLearner.Start(q);
            foreach (var (l, gr) in recorded) state = metaLearner.Step(state, l, gr, q);
            return F.cross_entropy(metaLearner.Learner.forward(xq, metaLearner.Layout.Unflatten(state.Parameters)), yq);
        }
        var replayed = autograd.grad(Replay(p), p);
        for (var k = 0; k < p.Count; k++)
            Assert.True(analytic[k].allclose(replayed[k], 1e-10, 1e-12), $"parameter {k}: the meta-gradient is not the first-order one");

        // Central differences of the first-order meta-loss on every tensor (a few coordinates of c0).
        const double eps = 1e-6;
        var checkedCount = 0;
        for (var k = 0; k < p.Count; k++)
        {
            var flat = p[k].view(-1);
            var coordinates = k == 7 ? new long[] { 0, 60, 140, flat.size(0) - 3 } : Enumerable.Range(0, (int)Math.Min(flat.size(0), 6)).Select(i => (long)(i * 7 % flat.size(0))).Distinct().ToArray();
            foreach (var j in coordinates)
            {
                double Loss(double delta)
                {
                    using var inner = NewDisposeScope();
                    using var ng = no_grad();
                    flat[j].add_(delta);
                    var v = Replay(p).item<double>();
                    flat[j].add_(-delta);
                    return v;
                }
                var numeric = (Loss(eps) - Loss(-eps)) / (2 * eps);
                var exact = analytic[k].view(-1)[j].item<double>();
                Assert.True(Math.Abs(numeric - exact) <= 1e-6 * Math.Max(1, Math.Abs(exact)), $"parameter {k}, coordinate {j}: analytic {exact:g10}, finite differences {numeric:g10}");
                checkedCount++;
            }
        }
        Assert.True(checkedCount > 30);
        // c0 and the second layer get a meta-gradient; so does the first layer (through h into the gates).
        Assert.All(analytic, a => Assert.True(a.abs().max().item<double>() > 0));
    }
}
