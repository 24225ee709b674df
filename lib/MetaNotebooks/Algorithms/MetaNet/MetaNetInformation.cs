using MetaNotebooks.Models;
using MetaNotebooks.Torch;

namespace MetaNotebooks.Algorithms.MetaNet;

/// <summary>
/// An episode's meta-information (docs/metanet.md §4), preprocessed by <see cref="LogAndSign"/> and ready for the
/// generators: plain data, no graph (spec §9.7).
/// </summary>
public sealed record MetaNetInformation(
    /// <summary>b's per-example conv gradients, [N, P_conv, 2] (m_conv's input).</summary>
    Tensor ExampleConv,
    /// <summary>b's per-example fc1 and head gradients, [N, P_fc, 2] (m_fc's input).</summary>
    Tensor ExampleFc,
    /// <summary>u's conv gradients, one row per LSTM step, [T, P_conv, 2] (d_conv's input); null in MetaNet−.</summary>
    Tensor? TaskConv,
    /// <summary>u's fc1 gradients per LSTM step, [T, F², 2] (d_fc's input); null in MetaNet−.</summary>
    Tensor? TaskFc,
    /// <summary>MetaNet+: b's conv gradients averaged per step, [T, P_conv, 2].</summary>
    Tensor? BaseTaskConv,
    /// <summary>MetaNet+: b's fc gradients averaged per step, [T, P_fc, 2].</summary>
    Tensor? BaseTaskFc)
{
    public IEnumerable<Tensor> Tensors => new[] { ExampleConv, ExampleFc, TaskConv, TaskFc, BaseTaskConv, BaseTaskFc }.OfType<Tensor>();
}

/// <summary>
/// What the generators made of the meta-information (spec §2.4–§2.5, §5): the memory M (one row of example-level fast
/// weights per support example, from m) and the task-level fast weights (Q* for u from d; MetaNet+'s for b).
/// Differentiable in the generators' parameters Z and G.
/// </summary>
public sealed record MetaNetFastWeights(
    /// <summary>Mc: [N, P_conv].</summary>
    Tensor MemoryConv,
    /// <summary>Mf: [N, P_fc].</summary>
    Tensor MemoryFc,
    /// <summary>Q*: u's task-level fast weights (null in MetaNet−).</summary>
    WeightSet? Task,
    /// <summary>MetaNet+'s task-level fast weights of b.</summary>
    WeightSet? BaseTask)
{
    public IEnumerable<Tensor> Tensors => new[] { MemoryConv, MemoryFc }.Concat(Task?.Tensors ?? []).Concat(BaseTask?.Tensors ?? []);

    /// <summary>
    /// The same numbers as new leaves that require grad (the graph to Z and G cut): the query pass run on them gives the
    /// gradient with respect to every generated tensor, and a backward of Σ (generated · its gradient) carries it on
    /// into the generators: the same gradients as one backward through the whole episode, split at this boundary (how
    /// `mn bench metanet.episode` times the generators' backward apart from the query pass's).
    /// </summary>
    public MetaNetFastWeights Leaves()
    {
        static Tensor Leaf(Tensor t) => t.detach().requires_grad_();
        static WeightSet? Set(WeightSet? w) => w is null ? null : new WeightSet(w.Convs.Select(Leaf).ToArray(), Leaf(w.Fc1), w.Head is null ? null : Leaf(w.Head));
        return new MetaNetFastWeights(Leaf(MemoryConv), Leaf(MemoryFc), Set(Task), Set(BaseTask));
    }
}
