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

    public int Run(Options options, ReproductionContext context) =>
        MetricMiniImageNetOptions.Run(options, context, 500_000, (k, n, seed, every, episodes) => MetricMiniImageNet.Relation(k, n, seed, every, episodes),
                                      MetricMiniImageNet.NewRelation);
}
