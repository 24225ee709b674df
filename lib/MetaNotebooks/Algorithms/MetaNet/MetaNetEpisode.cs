using MetaNotebooks.Models;
using MetaNotebooks.Torch;

namespace MetaNotebooks.Algorithms.MetaNet;

/// <summary>
/// What one MetaNet episode computed (docs/metanet.md §3.3), for the loss, for tests and for the chapter's figures:
/// the query logits, the index R and the query keys, the attention of every query over the support set, the memory M
/// (one row per support example) and the meta-information it was generated from.
/// </summary>
public sealed record MetaNetEpisode(
    /// <summary>b's query logits [L, n] (summed over branches, spec §2.2).</summary>
    Tensor Logits,
    /// <summary>R: support keys u(x'ᵢ; Q, Q*) [N, D].</summary>
    Tensor SupportKeys,
    /// <summary>Query keys [L, D].</summary>
    Tensor QueryKeys,
    /// <summary>p: softmax of the cosine scores, [L, N].</summary>
    Tensor Attention,
    /// <summary>Mc: m_conv's fast conv kernels per support example, [N, P_conv].</summary>
    Tensor MemoryConv,
    /// <summary>Mf: m_fc's fast fc1 and head weights per support example, [N, P_fc].</summary>
    Tensor MemoryFc,
    /// <summary>LogAndSign of b's per-example conv gradients, [N, P_conv, 2] (data, no graph).</summary>
    Tensor ExampleInformationConv,
    /// <summary>LogAndSign of b's per-example fc gradients, [N, P_fc, 2] (data, no graph).</summary>
    Tensor ExampleInformationFc,
    /// <summary>Q*: u's task-level fast weights (null in MetaNet−).</summary>
    WeightSet? TaskFastWeights,
    /// <summary>MetaNet+'s task-level fast weights of b.</summary>
    WeightSet? BaseTaskFastWeights)
{
    public IEnumerable<Tensor> Tensors =>
        new[] { Logits, SupportKeys, QueryKeys, Attention, MemoryConv, MemoryFc, ExampleInformationConv, ExampleInformationFc }
            .Concat(TaskFastWeights?.Tensors ?? []).Concat(BaseTaskFastWeights?.Tensors ?? []);
}
