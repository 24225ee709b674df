using MetaNotebooks.Algorithms.Metric;
using MetaNotebooks.Models;
using MetaNotebooks.Training;
using MetaNotebooks.Torch;

namespace MetaNotebooks.Experiments;

/// <summary>Prototypical networks on Omniglot as Snell et al. ran them (scripts/train/few_shot/run_train.py defaults).</summary>
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

    public static PrototypicalNetwork NewLearner(long seed)
    {
        using var g = new Generator((ulong)seed);
        return new PrototypicalNetwork(new ConvEncoder(generator: g));
    }
}
