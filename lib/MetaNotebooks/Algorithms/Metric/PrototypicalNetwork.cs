using MetaNotebooks.Models;
using MetaNotebooks.Tasks;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Algorithms.Metric;

/// <summary>
/// Prototypical networks (Snell, Swersky, Zemel 2017). Each class's prototype is the mean of its embedded support
/// examples, c_k = (1/|S_k|) Σ f(x_i) (Eq. 1); a query is classified by a softmax over negative squared Euclidean
/// distances to the prototypes, p(y = k | x) ∝ exp(−‖f(x) − c_k‖²) (Eq. 2); the loss is the negative log-probability of
/// the true class, averaged over queries. Support and query images go through the encoder in one batch (as the
/// authors' code does), so batch norm sees both.
/// </summary>
public sealed class PrototypicalNetwork(ConvEncoder encoder) : IEpisodeLearner, IEmbeddingClassifier
{
    public string Name => "Prototypical Nets";
    public ConvEncoder Encoder { get; } = encoder;
    public nn.Module Model => Encoder;

    /// <summary>Support and query embeddings: [tasks, N·K, D] and [tasks, M, D].</summary>
    public (Tensor Support, Tensor Query) Embed(TaskBatch batch)
    {
        using var scope = NewDisposeScope();
        var nk = batch.SupportInputs.size(1);
        var z = Encoder.Embed(cat([batch.SupportInputs, batch.QueryInputs], 1));
        var zs = z.narrow(1, 0, nk).MoveToOuterDisposeScope();
        var zq = z.narrow(1, nk, z.size(1) - nk).MoveToOuterDisposeScope();
        return (zs, zq);
    }

    /// <summary>c_k: the mean embedding of class k's support examples, [tasks, N, D].</summary>
    public static Tensor Prototypes(Tensor supportEmbeddings, Tensor supportLabels, int ways) =>
        EpisodeMetrics.ClassMeans(supportEmbeddings, supportLabels, ways);

    /// <summary>−‖f(x) − c_k‖² for every query and class: [tasks, M, N].</summary>
    public static Tensor NegativeSquaredDistances(Tensor queryEmbeddings, Tensor prototypes)
    {
        using var d = nn.functional.cdist(queryEmbeddings, prototypes);
        using var d2 = d.pow(2);
        return d2.neg();
    }

    public Tensor Scores(TaskBatch batch, int ways)
    {
        using var scope = NewDisposeScope();
        var (zs, zq) = Embed(batch);
        return NegativeSquaredDistances(zq, Prototypes(zs, batch.SupportTargets, ways)).MoveToOuterDisposeScope();
    }

    public Tensor EmbedImages(Tensor images)
    {
        using var z = Encoder.forward(images);
        return z.reshape(z.size(0), -1, 1, 1);
    }

    public Tensor ScoresFromEmbeddings(TaskBatch embedded, int ways)
    {
        using var scope = NewDisposeScope();
        var zs = embedded.SupportInputs.flatten(2);
        var zq = embedded.QueryInputs.flatten(2);
        return NegativeSquaredDistances(zq, Prototypes(zs, embedded.SupportTargets, ways)).MoveToOuterDisposeScope();
    }

    public Tensor Loss(TaskBatch batch, int ways)
    {
        using var scope = NewDisposeScope();
        var logits = Scores(batch, ways);
        return nn.functional.cross_entropy(logits.reshape(-1, ways), batch.QueryTargets.reshape(-1)).MoveToOuterDisposeScope();
    }
}
