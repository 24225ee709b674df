using MetaNotebooks.Tasks;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;
using F = MetaNotebooks.Torch.torch.nn.functional;

namespace MetaNotebooks.Algorithms.MetaLearner;

/// <summary>How the learner is trained on a task's support set: T updates, each on a mini-batch of B support examples.</summary>
public sealed record LearnedUpdateOptions
{
    /// <summary>T: updates of the learner per task (the authors' code: 12 at 1-shot, 8 at 5-shot).</summary>
    public int Steps { get; init; } = 12;
    /// <summary>B: support examples per update (the authors' code: 5 at 1-shot, 25 at 5-shot, i.e. the whole support set).</summary>
    public int BatchSize { get; init; } = 5;

    public void Validate(long supportSize)
    {
        if (Steps < 1) throw new ArgumentOutOfRangeException(nameof(Steps), Steps, "the learner needs at least one update per task.");
        if (BatchSize < 1 || supportSize % BatchSize != 0)
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, $"the batch size must divide the support set's {supportSize} examples.");
    }
}

/// <summary>The mean input and forget gate of each layer of the learner at each update: [update][layer].</summary>
public sealed record GateTrace(IReadOnlyList<string> Layers, double[][] Input, double[][] Forget);

/// <summary>
/// The learner trained by the meta-learner on a task (Ravi &amp; Larochelle 2017, Algorithm 1): starting from θ_0 = c_0,
/// for t = 1 … T the learner's loss L_t and gradient ∇_t on a mini-batch of the support set, at θ_{t−1}, go to the
/// meta-learner, which returns θ_t; the task's loss is then the learner's loss at θ_T on the query set. Mini-batches
/// cycle through B-sized slices of the support set: support images are ordered class by class, so batch b holds every
/// (S/B)-th image from b (with B = N it holds one image of every class).
/// </summary>
public static class LearnedUpdate
{
    /// <summary>
    /// θ_T after training the learner on (x [S, …], y [S]) with the meta-learner. With createGraph, θ_T keeps the graph to the
    /// meta-learner's parameters (meta-training); without, it is data (evaluation). With `trace`, the gates' layer means are recorded.
    /// </summary>
    public static MetaLearnerState Train(MetaLearnerLstm metaLearner, Tensor x, Tensor y, LearnedUpdateOptions options, bool createGraph, List<(double[] Input, double[] Forget)>? trace = null)
    {
        options.Validate(x.size(0));
        using var scope = NewDisposeScope();
        var state = metaLearner.Start();
        for (var t = 0; t < options.Steps; t++) state = Next(metaLearner, state, x, y, options, createGraph, trace);
        return state.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Update t + 1 (t = state.Steps): the learner's loss and gradient at θ_t on mini-batch t mod (S/B) of the support set,
    /// then the meta-learner's step. The new state is moved to the caller's dispose scope.
    /// </summary>
    private static MetaLearnerState Next(MetaLearnerLstm metaLearner, MetaLearnerState state, Tensor x, Tensor y, LearnedUpdateOptions options, bool createGraph,
                                         List<(double[] Input, double[] Forget)>? trace)
    {
        using var scope = NewDisposeScope();
        var batches = x.size(0) / options.BatchSize;
        var rows = arange(state.Steps % batches, x.size(0), batches);
        var (loss, gradient) = LossAndGradient(metaLearner, state.Parameters, x.index_select(0, rows), y.index_select(0, rows));
        using (createGraph ? null : no_grad())
            state = metaLearner.Step(state, loss, gradient);
        if (trace is not null) trace.Add((LayerMeans(metaLearner.Layout, state.Input), LayerMeans(metaLearner.Layout, state.Forget)));
        return state.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The learner's mean cross-entropy on (x, y) and its gradient at θ, both as data (no graph to θ): [] and [P]. Computed
    /// with autograd enabled even inside no_grad (evaluation), since the learner's gradient is the meta-learner's input.
    /// </summary>
    public static (Tensor Loss, Tensor Gradient) LossAndGradient(MetaLearnerLstm metaLearner, Tensor theta, Tensor x, Tensor y)
    {
        using var scope = NewDisposeScope();
        using var grad = enable_grad();
        var point = theta.detach().requires_grad_();
        var loss = F.cross_entropy(metaLearner.Learner.forward(x, metaLearner.Layout.Unflatten(point)), y);
        var gradient = autograd.grad(loss, [point])[0];
        return (loss.detach().MoveToOuterDisposeScope(), gradient.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The meta-objective of a batch of tasks: the mean over tasks of the query cross-entropy at θ_T (the graph runs back
    /// through every update to the meta-learner's parameters and c_0). Backpropagating it gives the meta-gradient.
    /// </summary>
    public static Tensor MetaLoss(MetaLearnerLstm metaLearner, TaskBatch batch, LearnedUpdateOptions options)
    {
        using var scope = NewDisposeScope();
        Tensor? total = null;
        for (var i = 0; i < batch.Count; i++)
        {
            var state = Train(metaLearner, batch.SupportInputs[i], batch.SupportTargets[i], options, createGraph: true);
            var loss = F.cross_entropy(metaLearner.Learner.forward(batch.QueryInputs[i], metaLearner.Layout.Unflatten(state.Parameters)), batch.QueryTargets[i]);
            total = total is null ? loss : total + loss;
        }
        return (total! / batch.Count).MoveToOuterDisposeScope();
    }

    /// <summary>Query accuracy (0…1) of each task of the batch after the learner is trained on its support set by the meta-learner.</summary>
    public static double[] Accuracy(MetaLearnerLstm metaLearner, TaskBatch batch, LearnedUpdateOptions options, List<(double[] Input, double[] Forget)>? trace = null) =>
        AccuracyAfterUpdates(metaLearner, batch, options, [options.Steps], trace)[0];

    /// <summary>
    /// Query accuracy (0…1) of each task after each of `updates` (0: at c_0) of the T updates: [updates.Count][tasks]. No
    /// graph is kept (evaluation); with `trace`, the gates' layer means of every update are recorded.
    /// </summary>
    public static double[][] AccuracyAfterUpdates(MetaLearnerLstm metaLearner, TaskBatch batch, LearnedUpdateOptions options, IReadOnlyList<int> updates,
                                                  List<(double[] Input, double[] Forget)>? trace = null)
    {
        if (updates.Count == 0 || updates.Any(u => u < 0 || u > options.Steps) || !updates.SequenceEqual(updates.Distinct().Order()))
            throw new ArgumentException($"updates must be distinct, increasing and within 0…{options.Steps}, got [{string.Join(", ", updates)}]", nameof(updates));
        var accuracy = updates.Select(_ => new double[batch.Count]).ToArray();
        for (var i = 0; i < batch.Count; i++)
        {
            using var scope = NewDisposeScope();
            var (x, y, xq, yq) = (batch.SupportInputs[i], batch.SupportTargets[i], batch.QueryInputs[i], batch.QueryTargets[i]);
            options.Validate(x.size(0));
            var state = metaLearner.Start();
            for (var t = 0; ; t++)
            {
                if (updates.ToList().IndexOf(t) is var k and >= 0)
                {
                    using var _ = no_grad();
                    using var logits = metaLearner.Learner.forward(xq, metaLearner.Layout.Unflatten(state.Parameters));
                    using var correct = logits.argmax(-1).eq(yq).to(ScalarType.Float64);
                    accuracy[k][i] = correct.mean().item<double>();
                }
                if (t == updates[^1]) break;
                state = Next(metaLearner, state, x, y, options, createGraph: false, trace);
            }
        }
        return accuracy;
    }

    /// <summary>The gates' mean per update and layer over the tasks whose traces were recorded (each task adds T entries).</summary>
    public static GateTrace Summarise(ParameterLayout layout, IReadOnlyList<(double[] Input, double[] Forget)> trace, int steps)
    {
        if (trace.Count == 0 || trace.Count % steps != 0) throw new ArgumentException($"a trace of whole tasks has a multiple of {steps} entries, got {trace.Count}.", nameof(trace));
        var tasks = trace.Count / steps;
        double[][] Mean(Func<(double[] Input, double[] Forget), double[]> pick) => Enumerable.Range(0, steps)
            .Select(t => Enumerable.Range(0, layout.Layers.Count).Select(l => Enumerable.Range(0, tasks).Average(k => pick(trace[k * steps + t])[l])).ToArray()).ToArray();
        return new GateTrace(layout.Layers.Select(l => l.Name).ToArray(), Mean(e => e.Input), Mean(e => e.Forget));
    }

    private static double[] LayerMeans(ParameterLayout layout, Tensor gate)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var flat = gate.reshape(-1);
        return layout.Layers.Select(l => flat.narrow(0, l.Start, l.Length).mean().item<double>()).ToArray();
    }
}
