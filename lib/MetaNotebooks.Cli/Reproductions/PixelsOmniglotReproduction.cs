using MetaNotebooks.Data;
using MetaNotebooks.Experiments;
using MetaNotebooks.Results;

namespace MetaNotebooks.Cli.Reproductions;

/// <summary>The pixel nearest-neighbour baseline of the Matching Networks table on our test episodes (no training).</summary>
public sealed class PixelsOmniglotReproduction : IReproduction
{
    public string Name => PixelsOmniglot.ExperimentName;
    public string PaperId => PixelsOmniglot.PaperId;
    public string Summary => "pixel nearest neighbour (cosine) on Omniglot test episodes, both pixel polarities (Vinyals et al. 2016, Table 1)";
    public string OptionsHelp => "      --eval-episodes N  test episodes per setting (default 1000)\n";

    public int Run(Options options, ReproductionContext context)
    {
        var episodes = options.Int("eval-episodes", 1000);
        options.RejectUnknown();
        if (episodes < 2) throw new UsageException("--eval-episodes must be at least 2");
        using var omniglot = Omniglot.Load(log: Console.Error);
        var scratch = context.PaperDirectory(PaperId);
        var result = PixelsOmniglot.Run(omniglot, scratch, context.Command, episodes);
        if (context.Publish(PaperId, result, Path.Combine(scratch, "results", PixelsOmniglot.ExperimentName + ".json"))) OmniglotComparison.Write(context.RepositoryRoot);
        return 0;
    }
}
