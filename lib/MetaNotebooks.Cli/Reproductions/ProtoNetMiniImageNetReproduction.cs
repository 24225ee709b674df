using MetaNotebooks.Experiments;

namespace MetaNotebooks.Cli.Reproductions;

/// <summary>Prototypical networks on Mini-ImageNet, 5-way 1-shot and 5-shot (Snell et al. 2017, Table 2).</summary>
public sealed class ProtoNetMiniImageNetReproduction : IReproduction
{
    public string Name => Prototypical.MiniImageNetExperiment;
    public string PaperId => Prototypical.PaperId;
    public string Summary => "Prototypical networks on Mini-ImageNet (Ravi & Larochelle split), 5-way 1-shot and 5-shot (Snell et al. 2017, Table 2)";

    public string OptionsHelp => """
          --iterations N   planned training episodes per model (default 20000; --hours usually stops it first)
          --train-ways N   classes per training episode (default the paper's: 30 for 1-shot, 20 for 5-shot); another
                           value is another row and result file (…-1shot-train5way.json), as is another --seed
        """ + "\n" + MetricMiniImageNetOptions.Help;

    public int Run(Options options, ReproductionContext context)
    {
        var shots = MetricMiniImageNetOptions.Shots(options);
        var (curveEvery, curveEpisodes) = MetricMiniImageNetOptions.Curve(options);
        var iterations = options.Int("iterations", 20_000);
        var seed = options.Int("seed", 1);
        var ways = options.Int("train-ways", 0);
        if (ways != 0 && ways is < 2 or > 64) throw new UsageException($"--train-ways must be between 2 and 64 (the train classes), got {ways}");
        var configs = shots.Select(k => Prototypical.MiniImageNetConfig(k, iterations, seed, ways == 0 ? null : ways, curveEvery, curveEpisodes)).ToList();
        return MetricReproduction.Run(configs, run => Prototypical.NewLearner(seed * 100 + run.Training.Shots, inChannels: 3), options, context,
            MetricMiniImageNetOptions.Load);
    }
}
