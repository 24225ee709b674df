using MetaNotebooks.Tasks;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Algorithms.Metric;

/// <summary>
/// A few-shot classifier of N-way episodes: given a batch of tasks (support [tasks, N·K, C, H, W] with labels 0…N−1,
/// query [tasks, M, C, H, W]) it scores every query against every class, [tasks, M, N], higher meaning more likely.
/// The pixel nearest-neighbour baseline is one; every trained metric learner is one too.
/// </summary>
public interface IEpisodeClassifier
{
    string Name { get; }
    Tensor Scores(TaskBatch batch, int ways);
}

/// <summary>A metric learner trained episode by episode: a module (what is optimised and checkpointed) and its episode loss.</summary>
public interface IEpisodeLearner : IEpisodeClassifier
{
    nn.Module Model { get; }
    /// <summary>The training objective on the batch's query sets (a scalar, averaged over tasks).</summary>
    Tensor Loss(TaskBatch batch, int ways);
}

public static class EpisodeMetrics
{
    /// <summary>Fraction of each task's queries whose highest score is the true class: [tasks] doubles.</summary>
    public static double[] Accuracy(Tensor scores, Tensor targets)
    {
        using var scope = NewDisposeScope();
        return scores.argmax(2).eq(targets).to(ScalarType.Float64).mean(1).ToArray<double>();
    }

    /// <summary>One-hot labels as floats: [tasks, M] int64 → [tasks, M, N].</summary>
    public static Tensor OneHot(Tensor labels, int ways) => nn.functional.one_hot(labels, ways).to(ScalarType.Float32);

    /// <summary>
    /// Per-class mean of embeddings: z [tasks, N·K, D] with labels [tasks, N·K] → [tasks, N, D]. Written as
    /// onehotᵀ·z / counts, so it holds for any order of the support set.
    /// </summary>
    public static Tensor ClassMeans(Tensor z, Tensor labels, int ways)
    {
        using var scope = NewDisposeScope();
        var y = OneHot(labels, ways);                  // [T, NK, N]
        var sums = y.transpose(1, 2).bmm(z);           // [T, N, D]
        var counts = y.sum(1).unsqueeze(2);            // [T, N, 1]
        return (sums / counts).MoveToOuterDisposeScope();
    }
}
