using MetaNotebooks.Algorithms;
using MetaNotebooks.Models;
using MetaNotebooks.Tasks;

using F = MetaNotebooks.Torch.torch.nn.functional;

namespace MetaNotebooks.Tests.Maml;

/// <summary>The Omniglot network under MAML in float64: shapes, the grouped (batched) path against the per-task loop, first order.</summary>
public class MamlConvNetTests
{
    /// <summary>Small sizes: 4 filters, 3-way 1-shot with 2 queries per class, 28×28 input (the network's four stride-2 blocks need it).</summary>
    private static (MamlConvNet model, TaskBatch batch) TinyProblem(int tasks = 3, int ways = 3, int queries = 2)
    {
        using var g = new Generator(5);
        var model = new MamlConvNet(ways, g, ScalarType.Float64, filters: 4);
        var xs = rand([tasks, ways, 1, 28, 28], g, ScalarType.Float64);
        var xq = rand([tasks, ways * queries, 1, 28, 28], g, ScalarType.Float64);
        var ys = tensor(Enumerable.Range(0, tasks * ways).Select(i => (long)(i % ways)).ToArray(), [tasks, ways]);
        var yq = tensor(Enumerable.Range(0, tasks * ways * queries).Select(i => (long)(i % (ways * queries) / queries)).ToArray(), [tasks, ways * queries]);
        return (model, new TaskBatch(xs, ys, xq, yq));
    }

    private static double[] Flatten(IEnumerable<Tensor> ts) => ts.SelectMany(t => t.ToArray<double>()).ToArray();

    private static double[] MetaGradient(Algorithms.Maml maml, TaskBatch batch, bool batched)
    {
        using var scope = NewDisposeScope();
        var loss = batched ? maml.MetaLossBatched(batch) : maml.MetaLoss(batch);
        return Flatten(autograd.grad(loss, maml.Model.parameters()));
    }

    [Fact]
    public void ShapesFollowTheStridedBlocks()
    {
        using var scope = NewDisposeScope();
        using var model = new MamlConvNet(5);
        Assert.Equal(18, model.parameters().Count);
        Assert.Equal([7, 5], model.forward(rand(7, 1, 28, 28)).shape);
        Assert.Equal([3, 4, 5], model.forward(rand(3, 4, 1, 28, 28)).shape);
        var perTask = model.parameters().Select(p => p.unsqueeze(0).expand([3, .. p.shape])).ToArray();
        Assert.Equal([3, 4, 5], model.forward(rand(3, 4, 1, 28, 28), perTask).shape);
        Assert.Throws<ArgumentException>(() => model.forward(rand(4, 1, 28, 28), perTask));
    }

    [Fact]
    public void ForwardIsTheSamePaddedNetwork()
    {
        // The model runs its blocks in a frame turned by 180° with symmetric padding; this is the paper's 'SAME'
        // network written out with an explicit SamePad before each convolution.
        var (model, batch) = TinyProblem();
        using var _ = model;
        using var __ = batch;
        using var scope = NewDisposeScope();
        var p = model.parameters();
        var x = batch.QueryInputs[0];
        var h = x;
        for (var i = 0; i < MamlConvNet.Blocks; i++)
        {
            h = F.conv2d(MamlConvNet.SamePad(h), p[4 * i], p[4 * i + 1], stride: 2);
            h = F.batch_norm(h, null, null, p[4 * i + 2], p[4 * i + 3], training: true, eps: model.BatchNormEps).relu();
        }
        var reference = F.linear(h.mean([2L, 3L]), p[16], p[17]);
        Assert.True(model.forward(x).allclose(reference, rtol: 1e-10, atol: 1e-10), "shared forward differs from the SAME-padded network");
        var perTask = p.Select(t => t.unsqueeze(0).expand([3, .. t.shape])).ToArray();
        Assert.True(model.forward(batch.QueryInputs, perTask)[0].allclose(reference, rtol: 1e-10, atol: 1e-10), "grouped forward differs from the SAME-padded network");
        // A picture that is not symmetric under the turn, so a missing or misplaced turn would show.
        Assert.False(x.flip(-2, -1).allclose(x), "the test input should not be 180°-symmetric");
    }

    [Fact]
    public void GroupedForwardEqualsEachTaskAlone()
    {
        var (model, batch) = TinyProblem(tasks: 4);
        using var _ = model;
        using var __ = batch;
        using var scope = NewDisposeScope();
        // Different parameters per task, so that a mix-up of tasks in the grouped layout would show.
        var perTask = model.parameters().Select(p => (p.unsqueeze(0).expand([4, .. p.shape]) + 0.1 * randn([4, .. p.shape], dtype: ScalarType.Float64))).ToArray();
        var together = model.forward(batch.QueryInputs, perTask);
        for (var t = 0; t < 4; t++)
        {
            var alone = model.forward(batch.QueryInputs[t], perTask.Select(p => p[t]).ToArray());
            Assert.True(together[t].allclose(alone, rtol: 1e-10, atol: 1e-10), $"task {t}: grouped forward differs from the task alone");
        }
        // Shared parameters over several tasks: each task normalised with its own batch statistics.
        var shared = model.forward(batch.QueryInputs);
        for (var t = 0; t < 4; t++)
            Assert.True(shared[t].allclose(model.forward(batch.QueryInputs[t]), rtol: 1e-10, atol: 1e-10), $"task {t}: shared-parameter forward over tasks differs");
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(false, 2)]
    [InlineData(true, 1)]
    public void BatchedMetaGradientEqualsTheLoops(bool firstOrder, int innerSteps)
    {
        var (model, batch) = TinyProblem();
        using var _ = model;
        using var __ = batch;
        var maml = new Algorithms.Maml(model, TaskLosses.CrossEntropy, new MamlOptions { InnerSteps = innerSteps, InnerLearningRate = 0.4, FirstOrder = firstOrder });
        var loop = MetaGradient(maml, batch, batched: false);
        var batched = MetaGradient(maml, batch, batched: true);
        Assert.Equal(loop.Length, batched.Length);
        for (var i = 0; i < loop.Length; i++)
            Assert.True(Math.Abs(loop[i] - batched[i]) <= 1e-5, $"element {i}: loop {loop[i]} vs batched {batched[i]}");
    }

    [Fact]
    public void FirstOrderEqualsTheAnalyticFormAndDiffersFromSecondOrder()
    {
        var (model, batch) = TinyProblem();
        using var _ = model;
        using var __ = batch;
        var options = new MamlOptions { InnerSteps = 1, InnerLearningRate = 0.4 };
        var fomaml = new Algorithms.Maml(model, TaskLosses.CrossEntropy, options with { FirstOrder = true });
        var firstOrder = MetaGradient(fomaml, batch, batched: true);

        // (1/T) Σᵢ ∇θ' L_query(θ'ᵢ) at θ'ᵢ = θ − α ∇θ L_support,ᵢ(θ), computed task by task from scratch.
        using var scope = NewDisposeScope();
        var expected = new double[firstOrder.Length];
        for (var t = 0; t < batch.Count; t++)
        {
            var task = batch.Task(t);
            var theta = model.parameters();
            var support = TaskLosses.CrossEntropy(model.forward(task.SupportInputs, theta), task.SupportTargets).sum();
            var grads = autograd.grad(support, theta);
            var adapted = theta.Select((p, i) => (p.detach() - 0.4 * grads[i]).requires_grad_()).ToArray();
            var query = TaskLosses.CrossEntropy(model.forward(task.QueryInputs, adapted), task.QueryTargets).sum();
            var g = Flatten(autograd.grad(query, adapted));
            for (var i = 0; i < g.Length; i++) expected[i] += g[i] / batch.Count;
        }
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - firstOrder[i]) <= 1e-9, $"element {i}: first order {firstOrder[i]} vs analytic {expected[i]}");

        var secondOrder = MetaGradient(new Algorithms.Maml(model, TaskLosses.CrossEntropy, options), batch, batched: true);
        var difference = Math.Sqrt(secondOrder.Zip(firstOrder, (a, b) => (a - b) * (a - b)).Sum());
        var size = Math.Sqrt(secondOrder.Sum(a => a * a));
        Assert.True(difference > 1e-3 * size, $"first- and second-order meta-gradients should differ (|Δ| = {difference}, |g| = {size})");
    }

    [Fact]
    public void AccuracyIsTheFractionOfArgMaxHits()
    {
        using var scope = NewDisposeScope();
        var logits = tensor(new double[] { 2, 1, 0, 1, 0, 5, 3, 2, 1, 0, 1, 0 }, [2, 2, 3]);
        var labels = tensor(new long[] { 0, 2, 1, 1 }, [2, 2]);
        Assert.Equal([1.0, 0.5], TaskMetrics.Accuracy(logits, labels).ToArray<double>());
    }
}
