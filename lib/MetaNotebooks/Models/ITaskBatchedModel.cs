using MetaNotebooks.Torch;

namespace MetaNotebooks.Models;

/// <summary>
/// A model whose batched forward takes per-task parameters in a layout of its own (not simply [tasks, …shape]).
/// MAML's batched meta-batch and fine-tuning ask it for their per-task copies; other models get p.expand([tasks, …]).
/// </summary>
public interface ITaskBatchedModel
{
    /// <summary>One copy of `parameters` (in <c>parameters()</c> order) per task: views, not copies, so gradients flow back to them.</summary>
    IReadOnlyList<Tensor> PerTask(IReadOnlyList<Tensor> parameters, long tasks);
}
