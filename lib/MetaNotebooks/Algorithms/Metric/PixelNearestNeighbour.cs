using MetaNotebooks.Tasks;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Algorithms.Metric;

/// <summary>Which way round Omniglot's pixels are fed to a pixel-space baseline.</summary>
public enum PixelPolarity
{
    /// <summary>As our Omniglot loader gives them: strokes 1, background 0 (ProtoNet's "1 − pixel").</summary>
    StrokesOne,
    /// <summary>As the PNG files are: background 1, strokes 0.</summary>
    BackgroundOne,
}

/// <summary>
/// The "Pixels / Cosine" row of the Matching Networks table: no learning at all. Each query image is compared with
/// every support image by the cosine similarity of their raw pixel vectors; a class's score is its best support
/// match (1-nearest-neighbour; with K shots the nearest of the K). It checks that our episodes are the literature's:
/// published 41.7 / 63.2 / 26.7 / 42.6 (5w1s, 5w5s, 20w1s, 20w5s).
/// </summary>
public sealed class PixelNearestNeighbour(PixelPolarity polarity = PixelPolarity.BackgroundOne) : IEpisodeClassifier
{
    public PixelPolarity Polarity { get; } = polarity;
    public string Name => "Pixels";

    /// <summary>Cosine similarity of every query with every support image: [tasks, M, N·K].</summary>
    public Tensor Similarities(TaskBatch batch)
    {
        using var scope = NewDisposeScope();
        var s = Pixels(batch.SupportInputs);
        var q = Pixels(batch.QueryInputs);
        var sn = s / s.norm(2, 2, keepdim: true).clamp_min(1e-8);
        var qn = q / q.norm(2, 2, keepdim: true).clamp_min(1e-8);
        return qn.bmm(sn.transpose(1, 2)).MoveToOuterDisposeScope();
    }

    private Tensor Pixels(Tensor images)
    {
        var flat = images.flatten(2);
        return Polarity == PixelPolarity.StrokesOne ? flat : 1 - flat;
    }

    public Tensor Scores(TaskBatch batch, int ways)
    {
        using var scope = NewDisposeScope();
        return EpisodeMetrics.BestPerClass(Similarities(batch), batch.SupportTargets, ways).MoveToOuterDisposeScope();
    }
}
