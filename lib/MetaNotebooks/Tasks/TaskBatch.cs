using MetaNotebooks.Torch;

namespace MetaNotebooks.Tasks;

/// <summary>
/// A batch of few-shot tasks: each task is a support set (to adapt on) and a query set (to evaluate the adapted
/// learner on). Tensors are batched over tasks: inputs [tasks, examples, …], targets [tasks, examples, …].
/// Every chapter's task distribution (sine waves, Omniglot and Mini-ImageNet episodes) produces this shape.
/// </summary>
public sealed class TaskBatch(Tensor supportInputs, Tensor supportTargets, Tensor queryInputs, Tensor queryTargets) : IDisposable
{
    public Tensor SupportInputs { get; } = supportInputs;
    public Tensor SupportTargets { get; } = supportTargets;
    public Tensor QueryInputs { get; } = queryInputs;
    public Tensor QueryTargets { get; } = queryTargets;

    public int Count => (int)SupportInputs.size(0);

    /// <summary>Task i alone, as a batch of one (views, no copy).</summary>
    public TaskBatch Task(int i) => new(
        SupportInputs.narrow(0, i, 1), SupportTargets.narrow(0, i, 1), QueryInputs.narrow(0, i, 1), QueryTargets.narrow(0, i, 1));

    /// <summary>Moves the tensors to the enclosing dispose scope.</summary>
    public TaskBatch MoveToOuterDisposeScope()
    {
        foreach (var t in Tensors) t.MoveToOuterDisposeScope();
        return this;
    }

    private IEnumerable<Tensor> Tensors => [SupportInputs, SupportTargets, QueryInputs, QueryTargets];

    public void Dispose()
    {
        foreach (var t in Tensors) t.Dispose();
    }
}

/// <summary>A distribution over tasks that draws seeded batches: the same seed gives the same tasks.</summary>
public interface ITaskDistribution
{
    TaskBatch Sample(int tasks);
}
