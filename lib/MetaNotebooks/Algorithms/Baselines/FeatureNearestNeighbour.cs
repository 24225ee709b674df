using MetaNotebooks.Algorithms.Metric;
using MetaNotebooks.Models;
using MetaNotebooks.Tasks;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Algorithms.Baselines;

/// <summary>
/// Ravi &amp; Larochelle's "Baseline-nearest-neighbor": the pretrained classifier's body embeds every support and query
/// image; a query takes the class of its nearest support example. The paper does not name the distance; we use cosine
/// similarity (as the Matching Networks baselines do), so a class's score is its best support match. Batch norm uses
/// the running statistics of pretraining (the body is in eval mode), so each embedding depends on its image alone.
/// </summary>
public sealed class FeatureNearestNeighbour(ConvEncoder body) : IEmbeddingClassifier
{
    public string Name => "Baseline nearest neighbour";
    public ConvEncoder Body { get; } = body;

    public Tensor EmbedImages(Tensor images)
    {
        using var z = Body.forward(images);
        return z.reshape(z.size(0), -1, 1, 1);
    }

    public Tensor Scores(TaskBatch batch, int ways)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var wasTraining = Body.training;
        Body.eval();
        try
        {
            var s = Body.Embed(batch.SupportInputs);
            var q = Body.Embed(batch.QueryInputs);
            return Score(s, q, batch.SupportTargets, ways).MoveToOuterDisposeScope();
        }
        finally { Body.train(wasTraining); }
    }

    public Tensor ScoresFromEmbeddings(TaskBatch embedded, int ways) =>
        Score(embedded.SupportInputs.flatten(2), embedded.QueryInputs.flatten(2), embedded.SupportTargets, ways);

    /// <summary>Best cosine similarity per class: support [T, N·K, D], query [T, M, D] → [T, M, N].</summary>
    private static Tensor Score(Tensor support, Tensor query, Tensor supportLabels, int ways)
    {
        using var scope = NewDisposeScope();
        var sn = support / support.norm(2, 2, keepdim: true).clamp_min(1e-8);
        var qn = query / query.norm(2, 2, keepdim: true).clamp_min(1e-8);
        return EpisodeMetrics.BestPerClass(qn.bmm(sn.transpose(1, 2)), supportLabels, ways).MoveToOuterDisposeScope();
    }
}
