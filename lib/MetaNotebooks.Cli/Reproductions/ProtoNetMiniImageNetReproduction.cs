using MetaNotebooks.Data;
using MetaNotebooks.Experiments;

namespace MetaNotebooks.Cli.Reproductions;

/// <summary>Prototypical networks on Mini-ImageNet, 5-way 1-shot and 5-shot (Snell et al. 2017, Table 2).</summary>
public sealed class ProtoNetMiniImageNetReproduction : IReproduction
{
    public string Name => Prototypical.MiniImageNetExperiment;
    public string PaperId => Prototypical.PaperId;
    public string Summary => "Prototypical networks on Mini-ImageNet (Ravi & Larochelle split), 5-way 1-shot and 5-shot (Snell et al. 2017, Table 2)";

    public string OptionsHelp => """
          --shots 1|5      train and score only this model (default: both, one after the other; two processes can run one each)
          --iterations N   planned training episodes per model (default 20000; --hours usually stops it first)
          --train-ways N   classes per training episode (default the paper's: 30 for 1-shot, 20 for 5-shot); another
                           value is another row and result file (…-1shot-train5way.json), as is another --seed
          --seed N         training seed (default 1); the 600 test episodes use the fixed seed every Mini-ImageNet method shares
          --curve-every N  test accuracy on the first --curve-episodes test episodes every N training episodes (default 100; 0: none)
          --curve-episodes N  (default 100); the final score uses all 600
          --hours H        at most H hours of training per model in this invocation, then evaluate; the same command resumes
          --restart        delete the checkpoints (and curves) first
        """;

    public int Run(Options options, ReproductionContext context)
    {
        var shots = options.String("shots") switch
        {
            null => new[] { 1, 5 },
            "1" => [1],
            "5" => [5],
            var s => throw new UsageException($"--shots is 1 or 5 (the paper's columns), not '{s}'"),
        };
        var iterations = options.Int("iterations", 20_000);
        var seed = options.Int("seed", 1);
        var ways = options.Int("train-ways", 0);
        var curveEvery = options.Int("curve-every", 100);
        var curveEpisodes = options.Int("curve-episodes", 100);
        if (curveEvery < 0 || curveEpisodes is < 2 or > 600) throw new UsageException("--curve-every must be ≥ 0 and --curve-episodes between 2 and 600");
        if (ways != 0 && ways is < 2 or > 64) throw new UsageException($"--train-ways must be between 2 and 64 (the train classes), got {ways}");
        var configs = shots.Select(k => Prototypical.MiniImageNetConfig(k, iterations, seed, ways == 0 ? null : ways, curveEvery, curveEpisodes)).ToList();
        return MetricReproduction.Run(configs, run => Prototypical.NewLearner(seed * 100 + run.Training.Shots, inChannels: 3), options, context,
            () => (MiniImageNet.Load("train", log: Console.Error), MiniImageNet.Load("test", log: Console.Error)));
    }
}
