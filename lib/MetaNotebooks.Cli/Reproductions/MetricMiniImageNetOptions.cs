using MetaNotebooks.Algorithms.Metric;
using MetaNotebooks.Data;
using MetaNotebooks.Experiments;

namespace MetaNotebooks.Cli.Reproductions;

/// <summary>The options every metric learner's Mini-ImageNet reproduction shares, read and checked once.</summary>
internal static class MetricMiniImageNetOptions
{
    public const string Help = """
          --shots 1|5      train and score only this model (default: both, one after the other; two processes can run one each)
          --seed N         training seed (default 1); the 600 test episodes use the fixed seed every Mini-ImageNet method shares
          --curve-every N  test accuracy on the first --curve-episodes test episodes every N training episodes (default 100; 0: none)
          --curve-episodes N  (default 100); the final score uses all 600
          --hours H        at most H hours of training per model in this invocation, then evaluate; the same command resumes
          --restart        start over (without --force in .local/scratch: committed checkpoints are kept)
        """;

    /// <summary>The models to train: --shots 1 or 5, or both.</summary>
    public static int[] Shots(Options options) => options.String("shots") switch
    {
        null => [1, 5],
        "1" => [1],
        "5" => [5],
        var s => throw new UsageException($"--shots is 1 or 5 (the papers' columns), not '{s}'"),
    };

    public static (int Every, int Episodes) Curve(Options options)
    {
        var every = options.Int("curve-every", 100);
        var episodes = options.Int("curve-episodes", 100);
        if (every < 0 || episodes is < 2 or > 600) throw new UsageException("--curve-every must be ≥ 0 and --curve-episodes between 2 and 600");
        return (every, episodes);
    }

    /// <summary>The train and test splits (from the decoded cache after the first load).</summary>
    public static (ClassIndexedDataset Train, ClassIndexedDataset Test) Load() =>
        (MiniImageNet.Load("train", log: Console.Error), MiniImageNet.Load("test", log: Console.Error));

    /// <summary>
    /// A method whose cells take only these options and --iterations: its configs (shots, iterations, seed, curve every,
    /// curve episodes) and learners (seed), run one after the other on the splits loaded once.
    /// </summary>
    public static int Run(Options options, ReproductionContext context, int defaultIterations,
                          Func<int, int, long, int, int, MetricOmniglotConfig> cell, Func<long, IEpisodeLearner> newLearner)
    {
        var shots = Shots(options);
        var (curveEvery, curveEpisodes) = Curve(options);
        var iterations = options.Int("iterations", defaultIterations);
        var seed = options.Int("seed", 1);
        var configs = shots.Select(k => cell(k, iterations, seed, curveEvery, curveEpisodes)).ToList();
        return MetricReproduction.Run(configs, run => newLearner(seed * 100 + run.Training.Shots), options, context, Load);
    }
}
