using MetaNotebooks.Experiments;

namespace MetaNotebooks.Cli.Reproductions;

/// <summary>Meta Networks on Mini-ImageNet (Ravi &amp; Larochelle split), 5-way 1-shot, the MetaNetPartial model (Munkhdalai &amp; Yu 2017, Table 2).</summary>
public sealed class MetaNetMiniImageNetReproduction : IReproduction
{
    public string Name => MetaNetMiniImageNet.Experiment;
    public string PaperId => MetaNetMiniImageNet.PaperId;
    public string Summary => "Meta Networks on Mini-ImageNet (Ravi & Larochelle split), 5-way 1-shot: MetaNetPartial trained on 10-way episodes (Munkhdalai & Yu 2017, Table 2)";

    public string OptionsHelp => """
          --iterations N   planned 10-way 1-shot 15-query training episodes (default 20000; --hours usually stops it first)
          --seed N         training seed (default 1); the 600 test episodes use the fixed seed every Mini-ImageNet method shares
          --curve-every N  test accuracy on the first --curve-episodes test episodes every N training episodes (default 100; 0: none)
          --curve-episodes N  (default 100); the final score uses all 600
          --hours H        at most H hours of training in this invocation, then evaluate; the same command resumes
          --restart        start over (without --force in .local/scratch: committed checkpoints are kept)
        """;

    public int Run(Options options, ReproductionContext context)
    {
        var (curveEvery, curveEpisodes) = MetricMiniImageNetOptions.Curve(options);
        var seed = options.Int("seed", 1);
        var config = MetaNetMiniImageNet.Cell(options.Int("iterations", 20_000), seed, curveEvery, curveEpisodes);
        return MetricReproduction.Run([config], run => MetaNetMiniImageNet.NewLearner(seed * 100 + run.Training.Shots), options, context, MetricMiniImageNetOptions.Load);
    }
}
