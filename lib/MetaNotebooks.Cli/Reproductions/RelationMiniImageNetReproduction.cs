using MetaNotebooks.Experiments;

namespace MetaNotebooks.Cli.Reproductions;

/// <summary>Relation networks on Mini-ImageNet, 5-way 1-shot and 5-shot (Sung et al. 2018, Table 2).</summary>
public sealed class RelationMiniImageNetReproduction : IReproduction
{
    public string Name => MetricMiniImageNet.RelationExperiment;
    public string PaperId => "sung2018-relation";
    public string Summary => "Relation networks on Mini-ImageNet (Ravi & Larochelle split), 5-way 1-shot and 5-shot (Sung et al. 2018, Table 2)";

    public string OptionsHelp => """
          --iterations N   planned training episodes per model (default 500000, the authors'; --hours usually stops it first)
        """ + "\n" + MetricMiniImageNetOptions.Help;

    public int Run(Options options, ReproductionContext context)
    {
        var shots = MetricMiniImageNetOptions.Shots(options);
        var (curveEvery, curveEpisodes) = MetricMiniImageNetOptions.Curve(options);
        var iterations = options.Int("iterations", 500_000);
        var seed = options.Int("seed", 1);
        var configs = shots.Select(k => MetricMiniImageNet.Relation(k, iterations, seed, curveEvery, curveEpisodes)).ToList();
        return MetricReproduction.Run(configs, run => MetricMiniImageNet.NewRelation(seed * 100 + run.Training.Shots), options, context, MetricMiniImageNetOptions.Load);
    }
}
