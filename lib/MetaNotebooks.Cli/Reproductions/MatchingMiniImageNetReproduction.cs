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

    public int Run(Options options, ReproductionContext context) =>
        MetricMiniImageNetOptions.Run(options, context, 20_000, (k, n, seed, every, episodes) => MetricMiniImageNet.Matching(k, n, seed, every, episodes),
                                      MetricMiniImageNet.NewMatching);
}
