using MetaNotebooks.Algorithms.Metric;
using MetaNotebooks.Models;
using MetaNotebooks.Training;
using MetaNotebooks.Torch;

namespace MetaNotebooks.Experiments;

/// <summary>
/// The metric learners' Mini-ImageNet cells: one model per 5-way column (1-shot, 5-shot), trained on the 64 train
/// classes and scored on the 600 fixed 5-way 15-query test episodes every Mini-ImageNet method shares.
/// (Prototypical networks' cells: <see cref="Prototypical.MiniImageNetConfig"/>, built on <see cref="Cell"/>.)
/// </summary>
public static class MetricMiniImageNet
{
    /// <summary>
    /// What every metric Mini-ImageNet cell shares: the table and its shot columns, the train classes only (the
    /// validation classes serve the papers' early stopping, which budgets of a few thousand episodes never reach), the
    /// 600 shared test episodes, a learning curve on the first `curveEpisodes` of them every `curveEvery` episodes.
    /// A seed other than 1 is another row and another result file, so the paper's row stays the paper's setting.
    /// </summary>
    public static MetricOmniglotConfig Cell(string experiment, string paperId, string method, IReadOnlyList<string> tags, long seed,
                                            string paperBudget, string slug, EpisodeTrainingOptions training, int curveEvery, int curveEpisodes)
    {
        if (training.Shots is not (1 or 5)) throw new ArgumentException($"the papers' Mini-ImageNet columns are 1-shot and 5-shot, not {training.Shots}-shot");
        var allTags = seed == 1 ? tags : [.. tags, $"seed {seed}"];
        return new MetricOmniglotConfig
        {
            Experiment = experiment + (seed != 1 ? $"-seed{seed}" : ""),
            PaperId = paperId,
            Method = method + (allTags.Count > 0 ? $" ({string.Join(", ", allTags)})" : ""),
            Seed = seed,
            TableId = "miniimagenet",
            ShotColumns = true,
            TrainPart = "train",
            EvalEpisodes = 600,
            EvalQueries = 15,
            CurveEvery = curveEvery,
            CurveEpisodes = curveEpisodes,
            EvalChunk = 1,
            PaperBudget = paperBudget,
            Runs = [new(slug, training, [(5, training.Shots)])],
        };
    }

    public const string RelationExperiment = "relation-miniimagenet";

    /// <summary>
    /// Relation networks as the authors' miniimagenet scripts train them: 5-way episodes with 15 queries per class for
    /// 1-shot and 10 for 5-shot (their README), one episode per update, Adam 1e-3 halved every 100,000 episodes, gradient
    /// norm clipped to 0.5, 500,000 episodes. Their scripts normalise RGB with Omniglot's constants; we feed every
    /// Mini-ImageNet method the same [0, 1] pixels.
    /// </summary>
    public static MetricOmniglotConfig Relation(int shots, int iterations, long seed = 1, int curveEvery = 100, int curveEpisodes = 100) =>
        Cell($"{RelationExperiment}-{shots}shot", "sung2018-relation", "Relation Net", [], seed,
             "500,000 5-way episodes per setting, one task per update, Adam 1e-3 halved every 100,000",
             "5way", new EpisodeTrainingOptions
             {
                 Iterations = iterations, Ways = 5, Shots = shots, Queries = shots == 1 ? 15 : 10, LearningRate = 1e-3, HalveEvery = 100_000,
                 ClipGradNorm = 0.5, Seed = seed * 10 + shots,
             }, curveEvery, curveEpisodes);

    public static RelationNetwork NewRelation(long seed)
    {
        using var g = new Generator((ulong)seed);
        return RelationNetwork.MiniImageNet(g);
    }

    public const string MatchingExperiment = "matching-fce-miniimagenet";

    /// <summary>
    /// Matching networks with full-context embeddings, the row Ravi &amp; Larochelle ran on this split (43.56 / 55.31).
    /// Neither paper gives the training episodes, the optimiser or the LSTM sizes: we train 5-way episodes of the test's
    /// shot with 15 queries per class, Adam 1e-3 without decay, K = 5 read steps, and LSTMs as wide as the encoder's
    /// 64·5·5 = 1,600-d output (as oscarknagg/few-shot does). The kernel is the support-normalised one our Omniglot
    /// Matching rows use (see <see cref="MatchingKernel"/>).
    /// </summary>
    public static MetricOmniglotConfig Matching(int shots, int iterations, long seed = 1, int curveEvery = 100, int curveEpisodes = 100) =>
        Cell($"{MatchingExperiment}-{shots}shot", "vinyals2016-matching", "Matching Nets FCE", [], seed,
             "not given (Ravi & Larochelle's re-run on this split: early stopping on the validation classes)",
             "5way", new EpisodeTrainingOptions
             {
                 Iterations = iterations, Ways = 5, Shots = shots, Queries = 15, LearningRate = 1e-3, HalveEvery = 0, Seed = seed * 10 + shots,
             }, curveEvery, curveEpisodes) with
        {
            // Vinyals et al.'s own Mini-ImageNet table is on their original split; this row is Ravi & Larochelle's re-run on ours.
            TableId = "miniimagenet-ravi",
            Variant = MetricMethods.KernelName(MatchingKernel.SupportNormalized) + "; LSTMs 1,600 wide, K = 5",
        };

    /// <summary>The 64-filter encoder on 84×84 RGB (a 1,600-d embedding) with full-context embeddings of that width.</summary>
    public static MatchingNetwork NewMatching(long seed)
    {
        using var g = new Generator((ulong)seed);
        return new MatchingNetwork(new ConvEncoder(3, generator: g), fullContext: true, embeddingSize: 64 * 5 * 5, generator: g, kernel: MatchingKernel.SupportNormalized);
    }
}
