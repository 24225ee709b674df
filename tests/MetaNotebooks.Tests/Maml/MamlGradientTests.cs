using MetaNotebooks.Algorithms;
using MetaNotebooks.Models;
using MetaNotebooks.Tasks;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Tests.Maml;

/// <summary>MAML's meta-gradients in float64: against finite differences, the first-order form, and the batched path.</summary>
public class MamlGradientTests
{
    private static (Mlp model, TaskBatch batch) TinyProblem(int tasks = 3)
    {
        using var g = new Generator(7);
        var model = new Mlp([1, 4, 4, 1], g, ScalarType.Float64);
        using var sine = new SineTasks(supportSize: 4, querySize: 5, seed: 11, dtype: ScalarType.Float64);
        return (model, sine.Sample(tasks));
    }

    private static double[] Flatten(IEnumerable<Tensor> ts) => ts.SelectMany(t => t.ToArray<double>()).ToArray();

    private static double[] MetaGradient(Algorithms.Maml maml, TaskBatch batch, bool batched)
    {
        using var scope = NewDisposeScope();
        var loss = batched ? maml.MetaLossBatched(batch) : maml.MetaLoss(batch);
        return Flatten(autograd.grad(loss, maml.Model.parameters()));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void SecondOrderMetaGradientMatchesFiniteDifferences(int innerSteps)
    {
        var (model, batch) = TinyProblem();
        using var _ = model;
        using var __ = batch;
        var maml = new Algorithms.Maml(model, TaskLosses.MeanSquaredError, new MamlOptions { InnerSteps = innerSteps, InnerLearningRate = 0.05 });
        var analytic = MetaGradient(maml, batch, batched: false);

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
        for (var i = 0; i < analytic.Length; i++)
            Assert.True(Math.Abs(analytic[i] - numeric[i]) <= 1e-6 + 1e-5 * Math.Abs(numeric[i]),
                $"element {i}: autograd {analytic[i]} vs finite differences {numeric[i]}");
    }

    [Fact]
    public void FirstOrderMetaGradientIsTheQueryGradientAtTheAdaptedParameters()
    {
        var (model, batch) = TinyProblem();
        using var _ = model;
        using var __ = batch;
        var options = new MamlOptions { InnerSteps = 2, InnerLearningRate = 0.05 };
        var fomaml = new Algorithms.Maml(model, TaskLosses.MeanSquaredError, options with { FirstOrder = true });
        var firstOrder = MetaGradient(fomaml, batch, batched: false);

        // The analytic first-order form: (1/T) Σᵢ ∇θ' L_query(θ'ᵢ), with θ'ᵢ from SGD on the support set.
        using var scope = NewDisposeScope();
        var expected = new double[firstOrder.Length];
        for (var t = 0; t < batch.Count; t++)
        {
            var task = batch.Task(t);
            var adapted = fomaml.Adapt(model.parameters(), task.SupportInputs, task.SupportTargets, 2, 0.05, createGraph: false)
                .Select(a => a.detach().requires_grad_()).ToArray();
            var q = TaskLosses.MeanSquaredError(model.forward(task.QueryInputs, adapted), task.QueryTargets).sum();
            var g = Flatten(autograd.grad(q, adapted));
            for (var i = 0; i < g.Length; i++) expected[i] += g[i] / batch.Count;
        }
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], firstOrder[i], 10);

        var secondOrder = MetaGradient(new Algorithms.Maml(model, TaskLosses.MeanSquaredError, options), batch, batched: false);
        var difference = Math.Sqrt(secondOrder.Zip(firstOrder, (a, b) => (a - b) * (a - b)).Sum());
        var size = Math.Sqrt(secondOrder.Sum(a => a * a));
        Assert.True(difference > 1e-3 * size, $"first- and second-order meta-gradients should differ (|Δ| = {difference}, |g| = {size})");
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(false, 3)]
    [InlineData(true, 2)]
    public void BatchedMetaBatchGivesTheLoopsMetaGradient(bool firstOrder, int innerSteps)
    {
        var (model, batch) = TinyProblem(tasks: 5);
        using var _ = model;
        using var __ = batch;
        var maml = new Algorithms.Maml(model, TaskLosses.MeanSquaredError, new MamlOptions { InnerSteps = innerSteps, InnerLearningRate = 0.05, FirstOrder = firstOrder });
        var loop = MetaGradient(maml, batch, batched: false);
        var batched = MetaGradient(maml, batch, batched: true);
        for (var i = 0; i < loop.Length; i++)
            Assert.True(Math.Abs(loop[i] - batched[i]) <= 1e-5, $"element {i}: loop {loop[i]} vs batched {batched[i]}");
    }

    [Fact]
    public void NegativeStepsAndRatesAreRejected()
    {
        var (model, batch) = TinyProblem();
        using var _ = model;
        using var __ = batch;
        Assert.Throws<ArgumentOutOfRangeException>(() => new Algorithms.Maml(model, TaskLosses.MeanSquaredError, new MamlOptions { InnerSteps = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Algorithms.Maml(model, TaskLosses.MeanSquaredError, new MamlOptions { InnerLearningRate = double.NaN }));
        var maml = new Algorithms.Maml(model, TaskLosses.MeanSquaredError);
        Assert.Throws<ArgumentOutOfRangeException>(() => maml.Adapt(model.parameters(), batch.SupportInputs, batch.SupportTargets, -2, 0.01, false));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SineTasks(0, 10, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SineTasks(5, -1, 1));
    }
}
