using MetaNotebooks.Algorithms.Metric;
using MetaNotebooks.Experiments;

namespace MetaNotebooks.Cli.Reproductions;

/// <summary>Matching networks on Omniglot (Vinyals et al. 2016, Table 1); --fce for full-context embeddings.</summary>
public sealed class MatchingOmniglotReproduction : IReproduction
{
    public string Name => "matching-omniglot";
    public string PaperId => "vinyals2016-matching";
    public string Summary => "Matching networks (cosine attention; --fce: full-context embeddings) on Omniglot, 5/20-way 1/5-shot (Vinyals et al. 2016)";
    public string OptionsHelp => """
          --iterations N   training episodes per model (two models, 1-shot and 5-shot, 20-way; default 20000)
          --iterations-1shot N, --iterations-5shot N   per model
          --fce            full-context embeddings (bidirectional LSTM over the support set, attention LSTM, 5 read steps)
          --kernel K       support-normalized (default: f·g/‖g‖, the public re-implementations') or cosine (Eq. 2 as printed)
          --seed N         training seed (default 1)
          --hours H        at most H hours of training per model in this invocation, then evaluate; the same command resumes
          --restart        start over (without --force in .local/scratch: committed checkpoints are kept)
        """;

    public int Run(Options options, ReproductionContext context)
    {
        var iterations = options.Int("iterations", 20_000);
        var fce = options.Flag("fce");
        var seed = options.Int("seed", 1);
        MatchingKernel kernel;
        try { kernel = MetricMethods.ParseKernel(options.String("kernel") ?? "support-normalized"); }
        catch (ArgumentException e) { throw new UsageException($"--kernel: {e.Message}"); }
        var config = MetricMethods.Matching(options.Int("iterations-1shot", iterations), options.Int("iterations-5shot", iterations), fce, seed, kernel);
        return MetricReproduction.Run(config, run => MetricMethods.NewMatching(fce, seed * 100 + run.Training.Shots, kernel), options, context);
    }
}

/// <summary>Relation networks on Omniglot (Sung et al. 2018, Table 1).</summary>
public sealed class RelationOmniglotReproduction : IReproduction
{
    public string Name => "relation-omniglot";
    public string PaperId => "sung2018-relation";
    public string Summary => "Relation networks on Omniglot, 5/20-way 1/5-shot (Sung et al. 2018)";
    public string OptionsHelp => """
          --iterations N   training episodes per model (two models, 1-shot and 5-shot, 20-way; default 20000)
          --iterations-1shot N, --iterations-5shot N   per model
          --seed N         training seed (default 1)
          --hours H        at most H hours of training per model in this invocation, then evaluate; the same command resumes
          --restart        start over (without --force in .local/scratch: committed checkpoints are kept)
        """;

    public int Run(Options options, ReproductionContext context)
    {
        var iterations = options.Int("iterations", 20_000);
        var seed = options.Int("seed", 1);
        var config = MetricMethods.Relation(options.Int("iterations-1shot", iterations), options.Int("iterations-5shot", iterations), seed);
        return MetricReproduction.Run(config, run => MetricMethods.NewRelation(seed * 100 + run.Training.Shots), options, context);
    }
}

/// <summary>Siamese networks, 28×28 Vinyals setting (the Convolutional Siamese Net rows of the Matching Networks table).</summary>
public sealed class SiameseOmniglotReproduction : IReproduction
{
    public string Name => "siamese-omniglot";
    public string PaperId => "koch2015-siamese";
    public string Summary => "Siamese networks (weighted L1, sigmoid, BCE over pairs) on 28×28 Omniglot, 5/20-way 1/5-shot";
    public string OptionsHelp => """
          --iterations N   training episodes (20-way 1-shot 5-query, all pairs; default 20000)
          --seed N         training seed (default 1)
          --hours H        at most H hours of training per model in this invocation, then evaluate; the same command resumes
          --restart        start over (without --force in .local/scratch: committed checkpoints are kept)
        """;

    public int Run(Options options, ReproductionContext context)
    {
        var seed = options.Int("seed", 1);
        var config = MetricMethods.Siamese(options.Int("iterations", 20_000), seed);
        return MetricReproduction.Run(config, _ => MetricMethods.NewSiamese(seed * 100 + 1), options, context);
    }
}
