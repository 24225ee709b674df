using MetaNotebooks.Data;
using MetaNotebooks.Models;
using MetaNotebooks.Torch;

namespace MetaNotebooks.Experiments;

/// <summary>
/// Settings of the Omniglot reproduction (Finn et al. 2017, appendix A.1; code cbfinn/maml main.py). Use
/// <see cref="ForCell"/> for the paper's settings of an N-way K-shot cell. The defaults of <see cref="MamlFewShotConfig"/>
/// are the Omniglot 5-way ones: K queries per class (the code draws 2K images per class, K support and K query), meta-batch
/// 32, 1 inner step α = 0.4, 3 test steps, 64 filters, no clipping, 40,000 iterations (the code's Omniglot commands; the
/// paper says 60,000).
/// </summary>
public sealed record MamlOmniglotConfig : MamlFewShotConfig
{
    public long EvalSeed { get; init; } = 20170309;
    /// <summary>MAML's character split is a seeded permutation (<see cref="Omniglot.Maml"/>).</summary>
    public ulong SplitSeed { get; init; } = 1;

    /// <summary>The paper's settings: 5-way 1 inner step α = 0.4, meta-batch 32, 3 test steps; 20-way 5 steps α = 0.1, meta-batch 16, 5 test steps.</summary>
    public static MamlOmniglotConfig ForCell(int ways, int shots, bool firstOrder) => ways == 20
        ? new() { Ways = 20, Shots = shots, Queries = shots, FirstOrder = firstOrder, MetaBatch = 16, InnerSteps = 5, InnerLearningRate = 0.1, EvalSteps = 5 }
        : new() { Ways = ways, Shots = shots, Queries = shots, FirstOrder = firstOrder };

    public override string Slug => $"{Ways}w{Shots}s{(FirstOrder ? "-fo" : "")}";
    public override string Column => $"{Ways}-way {Shots}-shot";

    public override void Validate()
    {
        base.Validate();
        if (Shots + Queries > Omniglot.DrawingsPerCharacter) throw new ArgumentException($"shots + queries must be ≤ {Omniglot.DrawingsPerCharacter} (drawings per character)");
    }
}

/// <summary>
/// Finn et al. (2017) Table 1, Omniglot: meta-train MAML (or first-order MAML) on MAML's character split with a random
/// 90° rotation per class per task, then fine-tune on 600 test tasks and report the query accuracy after 0…S steps
/// (mean ± 95% CI). The training, evaluation and result files are <see cref="MamlFewShot"/>'s.
/// </summary>
public sealed class MamlOmniglot(MamlOmniglotConfig config, string outputDirectory, Omniglot omniglot) : MamlFewShot(config, outputDirectory)
{
    public const string ExperimentName = "maml-omniglot";
    public MamlOmniglotConfig Config { get; } = config;
    public override string Experiment => ExperimentName;
    protected override string TableId => "omniglot";
    protected override string PaperIterations => "40,000–60,000";

    public override MamlConvNet NewModel()
    {
        using var g = new Generator((ulong)Config.Seed);
        return MamlConvNet.Omniglot(Config.Ways, g, filters: Config.Filters);
    }

    protected override ClassIndexedDataset Split(string split) => omniglot.Maml(split, Config.SplitSeed);

    protected override EpisodeSampler TrainingEpisodes(ClassIndexedDataset train, int iteration) =>
        new(train, Config.Ways, Config.Shots, Config.Queries, (ulong)(Config.Seed * 1_000_003 + iteration), EpisodeAugmentations.RandomRotationPerClass);

    protected override EpisodeSampler TestEpisodes(ClassIndexedDataset test) =>
        new(test, Config.Ways, Config.Shots, Config.Queries, (ulong)Config.EvalSeed, EpisodeAugmentations.RandomRotationPerClass);

    /// <summary>The wording of the committed Omniglot checkpoints, so that they still resume.</summary>
    protected override string CheckpointSettings =>
        $"{Config.MethodName}; {Config.Column} {Config.Queries}-query; meta-batch {Config.MetaBatch}; {Config.InnerSteps} inner step(s) of {Config.InnerLearningRate:g6}; " +
        $"meta learning rate {Config.MetaLearningRate:g6}; split seed {Config.SplitSeed}; seed {Config.Seed}";
}
