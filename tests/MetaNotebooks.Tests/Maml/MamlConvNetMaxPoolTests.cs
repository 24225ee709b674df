using MetaNotebooks.Algorithms;
using MetaNotebooks.Models;
using MetaNotebooks.Tasks;

using F = MetaNotebooks.Torch.torch.nn.functional;

namespace MetaNotebooks.Tests.Maml;

/// <summary>
/// MAML's Mini-ImageNet network (max-pooled blocks, flattened head) in float64: shapes, the network written out, the
/// grouped path against each task alone, and its meta-gradients through the inner loop against finite differences (second
/// order) and the query gradient at the adapted parameters (first order).
/// </summary>
public class MamlConvNetMaxPoolTests
{
    /// <summary>3 filters on 3×18×18 (18 → 9 → 4 → 2 → 1: a 'VALID' pool drops the odd row at 9), 3-way 1-shot, 2 queries per class.</summary>
    private static (MamlConvNet model, TaskBatch batch) TinyProblem(int tasks = 2, int ways = 3, int queries = 2, int imageSize = 18)
    {
        using var g = new Generator(9);
        var model = new MamlConvNet(ways, g, ScalarType.Float64, filters: 3, inChannels: 3, imageSize: imageSize, downsampling: Downsampling.MaxPool);
        var xs = rand([tasks, ways, 3, imageSize, imageSize], g, ScalarType.Float64);
        var xq = rand([tasks, ways * queries, 3, imageSize, imageSize], g, ScalarType.Float64);
        var ys = tensor(Enumerable.Range(0, tasks * ways).Select(i => (long)(i % ways)).ToArray(), [tasks, ways]);
        var yq = tensor(Enumerable.Range(0, tasks * ways * queries).Select(i => (long)(i % (ways * queries) / queries)).ToArray(), [tasks, ways * queries]);
        return (model, new TaskBatch(xs, ys, xq, yq));
    }

    private static double[] Flatten(IEnumerable<Tensor> ts) => ts.SelectMany(t => t.ToArray<double>()).ToArray();

    [Fact]
    public void ThePapersMiniImageNetShapeFlattensEightHundredFeatures()
    {
        using var scope = NewDisposeScope();
        using var model = MamlConvNet.MiniImageNet(5);
        Assert.Equal(5, model.FinalMapSize); // 84 → 42 → 21 → 10 → 5
        Assert.Equal(800, model.Features);
        Assert.Equal([5, 800], model.parameters()[16].shape);
        Assert.Equal([32, 3, 3, 3], model.parameters()[0].shape);
        Assert.Equal(32 * 3 * 9 + 3 * 32 * 32 * 9 + 4 * 3 * 32 + 5 * 800 + 5, model.parameters().Sum(p => p.numel()));
        Assert.Equal([2, 5], model.forward(rand(2, 3, 84, 84)).shape);
        Assert.Equal([2, 4, 5], model.forward(rand(2, 4, 3, 84, 84)).shape);
        var e = Assert.Throws<ArgumentException>(() => model.forward(rand(2, 3, 28, 28)));
        Assert.Contains("84×84", e.Message);
        // The paper's code initialises the flattened head Xavier-uniform: bound √(6 / (800 + 5)) ≈ 0.086, not N(0, 1).
        Assert.True(model.parameters()[16].abs().max().item<float>() <= Math.Sqrt(6.0 / 805) + 1e-6);
    }

    [Fact]
    public void ForwardIsTheNetworkWrittenOut()
    {
        var (model, batch) = TinyProblem();
        using var _ = model;
        using var __ = batch;
        using var scope = NewDisposeScope();
        var p = model.parameters();
        var x = batch.QueryInputs[0];
        var h = x;
        for (var i = 0; i < MamlConvNet.Blocks; i++)
        {
            h = F.conv2d(h, p[4 * i], p[4 * i + 1], padding: 1);
            h = F.max_pool2d(F.batch_norm(h, null, null, p[4 * i + 2], p[4 * i + 3], training: true, eps: model.BatchNormEps).relu(), 2);
        }
        Assert.Equal([6, 3, 1, 1], h.shape);
        var reference = F.linear(h.flatten(1), p[16], p[17]);
        Assert.True(model.forward(x).allclose(reference, rtol: 1e-10, atol: 1e-10), "shared forward differs from the network written out");
        var perTask = p.Select(t => t.unsqueeze(0).expand([2, .. t.shape])).ToArray();
        Assert.True(model.forward(batch.QueryInputs, perTask)[0].allclose(reference, rtol: 1e-10, atol: 1e-10), "grouped forward differs from the network written out");
    }

    [Fact]
    public void GroupedForwardEqualsEachTaskAloneWithALargerFinalMap()
    {
        // 34 → 17 → 8 → 4 → 2: a 2×2 final map, so a wrong flattening order between tasks and channels would show.
        var (model, batch) = TinyProblem(tasks: 3, imageSize: 34);
        using var _ = model;
        using var __ = batch;
        using var scope = NewDisposeScope();
        Assert.Equal(2, model.FinalMapSize);
        var perTask = model.parameters().Select(p => p.unsqueeze(0).expand([3, .. p.shape]) + 0.1 * randn([3, .. p.shape], dtype: ScalarType.Float64)).ToArray();
        var together = model.forward(batch.QueryInputs, perTask);
        for (var t = 0; t < 3; t++)
            Assert.True(together[t].allclose(model.forward(batch.QueryInputs[t], perTask.Select(p => p[t]).ToArray()), rtol: 1e-10, atol: 1e-10), $"task {t}: grouped forward differs from the task alone");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void SecondOrderMetaGradientMatchesFiniteDifferences(int innerSteps)
    {
        var (model, batch) = TinyProblem();
        using var _ = model;
        using var __ = batch;
        var maml = new Algorithms.Maml(model, TaskLosses.CrossEntropy, new MamlOptions { InnerSteps = innerSteps, InnerLearningRate = 0.3 });
        double[] analytic, batched;
        using (NewDisposeScope())
        {
            analytic = Flatten(autograd.grad(maml.MetaLoss(batch), model.parameters()));
            batched = Flatten(autograd.grad(maml.MetaLossBatched(batch), model.parameters()));
        }
        var numeric = new List<double>();
        const double eps = 1e-6;
        foreach (var p in model.parameters())
        {
            for (var i = 0; i < p.numel(); i++)
            {
                double Loss(double delta)
                {
                    using var scope = NewDisposeScope();
                    using (no_grad()) p.view(-1)[i].add_(delta);
                    var value = maml.MetaLoss(batch).item<double>();
                    using (no_grad()) p.view(-1)[i].add_(-delta);
                    return value;
                }
                numeric.Add((Loss(eps) - Loss(-eps)) / (2 * eps));
            }
        }
        Assert.Equal(numeric.Count, analytic.Length);
        var scale = numeric.Max(Math.Abs);
        Assert.True(scale > 1e-4, $"the meta-gradient should not vanish (max |g| = {scale})");
        for (var i = 0; i < analytic.Length; i++)
        {
            Assert.True(Math.Abs(analytic[i] - numeric[i]) <= 1e-6 + 1e-5 * Math.Abs(numeric[i]), $"element {i}: autograd {analytic[i]} vs finite differences {numeric[i]}");
            Assert.True(Math.Abs(batched[i] - analytic[i]) <= 1e-9 + 1e-7 * Math.Abs(analytic[i]), $"element {i}: batched {batched[i]} vs loop {analytic[i]}");
        }
    }

    [Fact]
    public void FirstOrderMetaGradientIsTheFiniteDifferenceQueryGradientAtTheAdaptedParameters()
    {
        var (model, batch) = TinyProblem();
        using var _ = model;
        using var __ = batch;
        const int steps = 2;
        const double alpha = 0.3, eps = 1e-6;
        var fomaml = new Algorithms.Maml(model, TaskLosses.CrossEntropy, new MamlOptions { InnerSteps = steps, InnerLearningRate = alpha, FirstOrder = true });
        double[] firstOrder, secondOrder;
        using (NewDisposeScope())
        {
            firstOrder = Flatten(autograd.grad(fomaml.MetaLoss(batch), model.parameters()));
            var batchedFirst = Flatten(autograd.grad(fomaml.MetaLossBatched(batch), model.parameters()));
            for (var i = 0; i < firstOrder.Length; i++)
                Assert.True(Math.Abs(batchedFirst[i] - firstOrder[i]) <= 1e-9 + 1e-7 * Math.Abs(firstOrder[i]), $"element {i}: batched {batchedFirst[i]} vs loop {firstOrder[i]}");
            var som = new Algorithms.Maml(model, TaskLosses.CrossEntropy, fomaml.Options with { FirstOrder = false });
            secondOrder = Flatten(autograd.grad(som.MetaLoss(batch), model.parameters()));
        }

        // (1/T) Σᵢ ∇θ' L_query,ᵢ(θ'ᵢ), θ'ᵢ held fixed after SGD on task i's support set, by central differences.
        var expected = new double[firstOrder.Length];
        for (var t = 0; t < batch.Count; t++)
        {
            using var scope = NewDisposeScope();
            var task = batch.Task(t);
            var adapted = fomaml.Adapt(model.parameters(), task.SupportInputs, task.SupportTargets, steps, alpha, createGraph: false).Select(a => a.detach().clone()).ToArray();
            var k = 0;
            foreach (var p in adapted)
            {
                for (var i = 0; i < p.numel(); i++, k++)
                {
                    double Loss(double delta)
                    {
                        using var inner = NewDisposeScope();
                        p.view(-1)[i].add_(delta);
                        var value = TaskLosses.CrossEntropy(model.forward(task.QueryInputs, adapted), task.QueryTargets).sum().item<double>();
                        p.view(-1)[i].add_(-delta);
                        return value;
                    }
                    expected[k] += (Loss(eps) - Loss(-eps)) / (2 * eps) / batch.Count;
                }
            }
        }
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - firstOrder[i]) <= 1e-6 + 1e-5 * Math.Abs(expected[i]), $"element {i}: first order {firstOrder[i]} vs finite differences {expected[i]}");
        var difference = Math.Sqrt(secondOrder.Zip(firstOrder, (a, b) => (a - b) * (a - b)).Sum());
        var size = Math.Sqrt(secondOrder.Sum(a => a * a));
        Assert.True(difference > 1e-3 * size, $"first- and second-order meta-gradients should differ (|Δ| = {difference}, |g| = {size})");
    }

    [Fact]
    public void FineTuningScoredAtSomeStepsGivesThoseRowsOfTheFullCurve()
    {
        var (model, batch) = TinyProblem(tasks: 3);
        using var _ = model;
        using var __ = batch;
        using var scope = NewDisposeScope();
        var all = Algorithms.Maml.FineTuneCurve(model, TaskLosses.CrossEntropy, batch, 4, 0.3);
        var some = Algorithms.Maml.FineTuneCurve(model, TaskLosses.CrossEntropy, batch, 4, 0.3, scoredSteps: [0, 2, 4]);
        Assert.Equal([3, 3], some.shape);
        Assert.True(some.allclose(all.index_select(0, tensor(new long[] { 0, 2, 4 })), rtol: 1e-12, atol: 1e-12), "scored rows differ from the full curve's");
        Assert.False(all[0].allclose(all[4]), "fine-tuning should change the query loss");
        Assert.Throws<ArgumentException>(() => Algorithms.Maml.FineTuneCurve(model, TaskLosses.CrossEntropy, batch, 4, 0.3, scoredSteps: [0, 5]));
        Assert.Throws<ArgumentException>(() => Algorithms.Maml.FineTuneCurve(model, TaskLosses.CrossEntropy, batch, 4, 0.3, scoredSteps: [2, 1]));
    }
}
