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

/// <summary>
/// A classifier whose per-image embedding does not depend on the episode (no batch statistics at test, no
/// full-context embedding): evaluation can embed every test image once and draw the episodes from the embeddings.
/// Embeddings keep an image-like shape [n, C', H', W'] (a vector is [n, D, 1, 1]), so the same episode sampler, with
/// the same seed, draws exactly the same episodes from them as from the images.
/// </summary>
public interface IEmbeddingClassifier : IEpisodeClassifier
{
    /// <summary>[n, C, H, W] images → [n, C', H', W'] embeddings (in eval mode).</summary>
    Tensor EmbedImages(Tensor images);
    /// <summary>As <see cref="IEpisodeClassifier.Scores"/>, on a batch whose inputs are embeddings from <see cref="EmbedImages"/>.</summary>
    Tensor ScoresFromEmbeddings(TaskBatch embedded, int ways);
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

    /// <summary>
    /// For each class, the best of a query's scores against that class's support examples: scores [T, M, N·K] → [T, M, N].
    /// Episodes from <see cref="Data.EpisodeSampler"/> order the support set class by class (K each), which allows a
    /// reshape; any other order takes the general masked path.
    /// </summary>
    public static Tensor BestPerClass(Tensor scores, Tensor supportLabels, int ways)
    {
        using var scope = NewDisposeScope();
        var (t, m, nk) = (scores.size(0), scores.size(1), scores.size(2));
        if (nk % ways == 0)
        {
            var k = nk / ways;
            var expected = tensor(Enumerable.Range(0, (int)nk).Select(i => (long)(i / k)).ToArray()).unsqueeze(0).expand(t, nk);
            if (supportLabels.equal(expected)) return scores.view(t, m, ways, k).amax(3).MoveToOuterDisposeScope();
        }
        var mask = OneHot(supportLabels, ways).transpose(1, 2).unsqueeze(1);                    // [T, 1, N, NK]
        var masked = scores.unsqueeze(2).expand(t, m, ways, nk).masked_fill(mask.eq(0), double.NegativeInfinity);
        return masked.amax(3).MoveToOuterDisposeScope();
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
