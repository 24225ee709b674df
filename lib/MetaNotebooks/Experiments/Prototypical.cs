using MetaNotebooks.Algorithms.Metric;
using MetaNotebooks.Models;
using MetaNotebooks.Training;
using MetaNotebooks.Torch;

namespace MetaNotebooks.Experiments;

/// <summary>
/// Prototypical networks as Snell et al. ran them: on Omniglot (scripts/train/few_shot/run_train.py defaults) and on
/// Mini-ImageNet (the paper's §3.2: 30-way 1-shot and 20-way 5-shot training episodes, 15 queries).
/// </summary>
public static class Prototypical
{
    public const string PaperId = "snell2017-prototypical";
    public const string ExperimentName = "protonet-omniglot";

    /// <summary>
    /// Two models, as in the paper ("match the training shot to the test shot"): 60-way 1-shot and 60-way 5-shot
    /// training episodes with 5 queries per class; each is scored on 5-way and 20-way tests of its shot.
    /// </summary>
    public static MetricOmniglotConfig Config(int iterations1Shot, int iterations5Shot, long seed = 1, int trainWays = 60) => new()
    {
        Experiment = ExperimentName,
        PaperId = PaperId,
        Method = "Prototypical Nets",
        Seed = seed,
        PaperBudget = "60-way, 5 queries, Adam 1e-3 halved every 2,000 episodes, early stopping on validation (patience 200 epochs of 100 episodes), then retrained on train+val",
        Runs =
        [
            new("1shot", Options(iterations1Shot, 1, seed, trainWays), [(5, 1), (20, 1)]),
            new("5shot", Options(iterations5Shot, 5, seed, trainWays), [(5, 5), (20, 5)]),
        ],
    };

    /// <summary>
    /// The budget form: one model, trained on 60-way 1-shot episodes, scored on all four settings (the paper trains a
    /// second model on 5-shot episodes for the 5-shot columns).
    /// </summary>
    public static MetricOmniglotConfig OneModelConfig(int iterations, long seed = 1, int trainWays = 60) => Config(iterations, 0, seed, trainWays) with
    {
        Runs = [new("1shot", Options(iterations, 1, seed, trainWays), [(5, 1), (5, 5), (20, 1), (20, 5)])],
    };

    public static EpisodeTrainingOptions Options(int iterations, int shots, long seed, int ways = 60) => new()
    {
        Iterations = iterations, Ways = ways, Shots = shots, Queries = 5, LearningRate = 1e-3, HalveEvery = 2000, Seed = seed * 10 + shots,
    };

    /// <param name="inChannels">1 for Omniglot, 3 for Mini-ImageNet (the embedding is then 64·5·5 = 1,600-d).</param>
    public static PrototypicalNetwork NewLearner(long seed, long inChannels = 1)
    {
        using var g = new Generator((ulong)seed);
        return new PrototypicalNetwork(new ConvEncoder(inChannels, generator: g));
    }

    public const string MiniImageNetExperiment = "protonet-miniimagenet";

    /// <summary>The paper's training way on Mini-ImageNet: 30 for the 1-shot model, 20 for the 5-shot model.</summary>
    public static int PaperTrainWays(int shots) => shots == 1 ? 30 : 20;

    /// <summary>
    /// One Mini-ImageNet model, as the paper trains it for the 5-way `shots`-shot column: `trainWays`-way (default: the
    /// paper's 30 or 20) `shots`-shot episodes with 15 queries, Adam 1e-3 halved every 2,000 episodes, on the 64 train
    /// classes; scored on the 600 fixed 5-way test episodes every Mini-ImageNet method shares, with a learning curve on
    /// the first `curveEpisodes` of them every `curveEvery` episodes. The validation classes are not used: the paper
    /// stops early on them, which a budget of a few hundred episodes never reaches. Another training way or seed is
    /// another row and another result file (the equal-budget experiment), so the paper's row stays the paper's setting.
    /// </summary>
    public static MetricOmniglotConfig MiniImageNetConfig(int shots, int iterations, long seed = 1, int? trainWays = null, int curveEvery = 100, int curveEpisodes = 100)
    {
        if (shots is not (1 or 5)) throw new ArgumentException($"the paper's Mini-ImageNet columns are 1-shot and 5-shot, not {shots}-shot");
        var ways = trainWays ?? PaperTrainWays(shots);
        var paperWays = ways == PaperTrainWays(shots);
        return MetricMiniImageNet.Cell($"{MiniImageNetExperiment}-{shots}shot{(paperWays ? "" : $"-train{ways}way")}", PaperId, "Prototypical Nets",
            paperWays ? [] : [$"{ways}-way training"], seed,
            $"{PaperTrainWays(shots)}-way {shots}-shot 15-query episodes, Adam 1e-3 halved every 2,000 episodes, early stopping on the validation classes",
            $"{ways}way", new EpisodeTrainingOptions
            {
                Iterations = iterations, Ways = ways, Shots = shots, Queries = 15, LearningRate = 1e-3, HalveEvery = 2000, Seed = seed * 10 + shots,
            }, curveEvery, curveEpisodes);
    }
}
