using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Algorithms;

/// <summary>
/// A per-task loss: predictions and targets batched over tasks ([tasks, N, …]) → one loss per task ([tasks]).
/// Summing it over tasks gives each task's gradient to that task's own (per-task) parameters.
/// </summary>
public delegate Tensor TaskLoss(Tensor predictions, Tensor targets);

public static class TaskLosses
{
    /// <summary>Mean squared error of each task (regression).</summary>
    public static Tensor MeanSquaredError(Tensor predictions, Tensor targets)
    {
        using var squared = nn.functional.mse_loss(predictions, targets, nn.Reduction.None);
        return squared.mean(Enumerable.Range(1, squared.dim() - 1).Select(d => (long)d).ToArray());
    }

    /// <summary>Mean cross-entropy of each task (classification): logits [tasks, N, classes], labels [tasks, N].</summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor labels)
    {
        var tasks = logits.size(0);
        using var flatLogits = logits.flatten(0, 1);
        using var flatLabels = labels.flatten();
        using var losses = nn.functional.cross_entropy(flatLogits, flatLabels, reduction: nn.Reduction.None);
        using var perTask = losses.view(tasks, -1);
        return perTask.mean(1);
    }
}

/// <summary>A per-task score of predictions (not differentiated): [tasks, N, …] and targets → [tasks].</summary>
public delegate Tensor TaskMetric(Tensor predictions, Tensor targets);

public static class TaskMetrics
{
    /// <summary>Fraction of each task's examples whose arg-max class is the label: logits [tasks, N, classes], labels [tasks, N] → [tasks].</summary>
    public static Tensor Accuracy(Tensor logits, Tensor labels)
    {
        using var predicted = logits.argmax(-1);
        using var correct = predicted.eq(labels);
        using var asDouble = correct.to(ScalarType.Float64);
        return asDouble.mean(1);
    }
}
