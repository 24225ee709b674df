using MetaNotebooks.Experiments;

namespace MetaNotebooks.Cli.Reproductions;

/// <summary>Matching networks with full-context embeddings on Mini-ImageNet, 5-way 1-shot and 5-shot (the row Ravi &amp; Larochelle 2017 report).</summary>
public sealed class MatchingMiniImageNetReproduction : IReproduction
{
    public string Name => MetricMiniImageNet.MatchingExperiment;
    public string PaperId => "vinyals2016-matching";
    public string Summary => "Matching networks FCE on Mini-ImageNet (Ravi & Larochelle split), 5-way 1-shot and 5-shot (as Ravi & Larochelle 2017 report them)";

    public string OptionsHelp => """
          --iterations N   planned training episodes per model (default 20000; --hours usually stops it first)
        """ + "\n" + MetricMiniImageNetOptions.Help;

    public int Run(Options options, ReproductionContext context)
    {
        var shots = MetricMiniImageNetOptions.Shots(options);
        var (curveEvery, curveEpisodes) = MetricMiniImageNetOptions.Curve(options);
        var iterations = options.Int("iterations", 20_000);
        var seed = options.Int("seed", 1);
        var configs = shots.Select(k => MetricMiniImageNet.Matching(k, iterations, seed, curveEvery, curveEpisodes)).ToList();
        return MetricReproduction.Run(configs, run => MetricMiniImageNet.NewMatching(seed * 100 + run.Training.Shots), options, context, MetricMiniImageNetOptions.Load);
    }
}
