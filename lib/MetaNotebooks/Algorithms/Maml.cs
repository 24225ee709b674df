using MetaNotebooks.Models;
using MetaNotebooks.Tasks;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Algorithms;

/// <summary>How MAML adapts and differentiates (Finn et al. 2017, Algorithm 1 and §5.2).</summary>
public sealed record MamlOptions
{
    /// <summary>S: SGD steps of the inner loop at meta-training time.</summary>
    public int InnerSteps { get; init; } = 1;

    /// <summary>α: the inner loop's step size.</summary>
    public double InnerLearningRate { get; init; } = 0.01;

    /// <summary>First-order MAML: the inner gradients are treated as constants (no second derivatives).</summary>
    public bool FirstOrder { get; init; }

    public void Validate()
    {
        if (InnerSteps < 0) throw new ArgumentOutOfRangeException(nameof(InnerSteps), InnerSteps, "the number of inner steps cannot be negative.");
        if (!(InnerLearningRate >= 0) || double.IsInfinity(InnerLearningRate)) throw new ArgumentOutOfRangeException(nameof(InnerLearningRate), InnerLearningRate, "the inner step size α must be a finite number ≥ 0.");
    }
}

/// <summary>
/// Model-agnostic meta-learning over any functional model. The inner loop is a pure function of (θ, support set):
///   θ'ᵢ = θ − α ∇θ L_Tᵢ(f_θ)        (repeated S times)
/// and the meta-objective is the query loss of the adapted parameters, averaged over the tasks of a meta-batch:
///   min_θ  Σᵢ L_Tᵢ(f_θ'ᵢ)
/// Second order keeps the graph through the inner loop, so ∇θ sees ∂θ'/∂θ = I − α ∇²L; first order drops it.
/// </summary>
public sealed class Maml
{
    public nn.Module Model { get; }
    public MamlOptions Options { get; }
    public TaskLoss Loss { get; }

    public Maml(nn.Module model, TaskLoss loss, MamlOptions? options = null)
    {
        Model = model;
        Loss = loss;
        Options = options ?? new MamlOptions();
        Options.Validate();
    }

    /// <summary>
    /// The inner loop: `steps` SGD steps from `parameters` on (inputs, targets). createGraph keeps each step
    /// differentiable (second-order MAML); otherwise the gradients are detached (first order / fine-tuning).
    /// Parameters may be shared or per task (leading task dimension); the loss is summed over tasks so each task's
    /// parameters get that task's gradient.
    /// </summary>
    public IReadOnlyList<Tensor> Adapt(IReadOnlyList<Tensor> parameters, Tensor inputs, Tensor targets, int steps, double stepSize, bool createGraph)
    {
        if (steps < 0) throw new ArgumentOutOfRangeException(nameof(steps), steps, "the number of adaptation steps cannot be negative.");
        var current = parameters;
        for (var s = 0; s < steps; s++)
        {
            using var predictions = Model.forward(inputs, current);
            using var losses = Loss(predictions, targets);
            using var loss = losses.sum();
            var grads = autograd.grad(loss, current, createGraph: createGraph);
            var next = new Tensor[current.Count];
            for (var i = 0; i < next.Length; i++)
            {
                if (createGraph) next[i] = current[i].add(grads[i], -stepSize);
                else
                {
                    using var g = grads[i].detach();
                    next[i] = current[i].add(g, -stepSize);
                }
                grads[i].Dispose();
            }
            current = next;
        }
        return current;
    }

    /// <summary>
    /// The meta-objective of a meta-batch, one task after another (Algorithm 1): the mean over tasks of the query
    /// loss after adapting on the support set. Backpropagating it gives the meta-gradient.
    /// </summary>
    public Tensor MetaLoss(TaskBatch batch)
    {
        var theta = Model.parameters();
        Tensor? total = null;
        for (var i = 0; i < batch.Count; i++)
        {
            using var task = batch.Task(i);
            var adapted = Adapt(theta, task.SupportInputs, task.SupportTargets, Options.InnerSteps, Options.InnerLearningRate, createGraph: !Options.FirstOrder);
            using var predictions = Model.forward(task.QueryInputs, adapted);
            using var loss = Loss(predictions, task.QueryTargets);
            var sum = total is null ? loss.sum() : total + loss.sum();
            total?.Dispose();
            total = sum;
        }
        using (total) return total! / batch.Count;
    }

    /// <summary>
    /// The same meta-objective with the whole meta-batch in one batched computation: θ is expanded to one copy per
    /// task (<see cref="PerTask"/>, a view), each task adapts its copy, and the query losses are averaged.
    /// </summary>
    public Tensor MetaLossBatched(TaskBatch batch)
    {
        var perTask = PerTask(Model, Model.parameters(), batch.Count);
        var adapted = Adapt(perTask, batch.SupportInputs, batch.SupportTargets, Options.InnerSteps, Options.InnerLearningRate, createGraph: !Options.FirstOrder);
        using var predictions = Model.forward(batch.QueryInputs, adapted);
        using var losses = Loss(predictions, batch.QueryTargets);
        return losses.mean();
    }

    /// <summary>
    /// One view of `parameters` per task, in the layout the model's batched forward takes: its own
    /// (<see cref="ITaskBatchedModel"/>) or [tasks, …shape].
    /// </summary>
    public static IReadOnlyList<Tensor> PerTask(nn.Module model, IReadOnlyList<Tensor> parameters, long tasks) =>
        model is ITaskBatchedModel batched ? batched.PerTask(parameters, tasks) : parameters.Select(p => p.expand([tasks, .. p.shape])).ToArray();

    /// <summary>
    /// Fine-tunes from the model's parameters on each task's support set with plain SGD and returns the query loss
    /// of every task after 0, 1, …, steps steps: [steps + 1, tasks]. No graph is kept (evaluation). With `metric`,
    /// the query predictions are scored by it instead of the loss (e.g. <see cref="TaskMetrics.Accuracy"/>); the
    /// adaptation still descends `loss`. With `scoredSteps`, only those steps are scored ([scoredSteps.Count, tasks]): scoring
    /// the query set is most of the cost when it is much larger than the support set (Mini-ImageNet: 75 query images, 5 support).
    /// </summary>
    public static Tensor FineTuneCurve(nn.Module model, TaskLoss loss, TaskBatch batch, int steps, double stepSize, TaskMetric? metric = null, IReadOnlyCollection<int>? scoredSteps = null)
    {
        if (scoredSteps is not null && (scoredSteps.Count == 0 || scoredSteps.Any(s => s < 0 || s > steps) || scoredSteps.Distinct().Count() != scoredSteps.Count || !scoredSteps.SequenceEqual(scoredSteps.Order())))
            throw new ArgumentException($"scored steps must be distinct, increasing and within 0…{steps}, got [{string.Join(", ", scoredSteps)}]", nameof(scoredSteps));
        using var scope = NewDisposeScope();
        var detached = model.parameters().Select(p => p.detach()).ToArray();
        IReadOnlyList<Tensor> current = PerTask(model, detached, batch.Count).Select(p => p.requires_grad_()).ToArray();
        var curve = new List<Tensor>();
        for (var s = 0; s <= steps; s++)
        {
            if (scoredSteps is null || scoredSteps.Contains(s))
            {
                using var _ = no_grad();
                using var q = model.forward(batch.QueryInputs, current);
                curve.Add(metric is null ? loss(q, batch.QueryTargets) : metric(q, batch.QueryTargets));
            }
            if (s == steps) break;
            using var predictions = model.forward(batch.SupportInputs, current);
            using var l = loss(predictions, batch.SupportTargets);
            using var total = l.sum();
            var grads = autograd.grad(total, current);
            using (no_grad())
                current = current.Select((p, i) => (p - stepSize * grads[i]).requires_grad_()).ToArray();
        }
        return stack(curve).MoveToOuterDisposeScope();
    }
}
