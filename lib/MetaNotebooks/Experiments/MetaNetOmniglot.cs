using System.Diagnostics;
using System.Text.Json.Nodes;
using MetaNotebooks.Algorithms.MetaNet;
using MetaNotebooks.Data;
using MetaNotebooks.Results;
using MetaNotebooks.Training;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Experiments;

/// <summary>
/// MetaNet on Omniglot as the authors' train_omniglot.py runs it (docs/metanet.md §6.2): n-way 1-shot episodes with 10
/// queries per class, each class of a training episode rotated by a random multiple of 90° (the same rotation for its
/// support and query images, spec §9.12; never at test), one episode per Adam step (1e−3, global clip 10), the loss
/// summed over the queries. Train on the 1,200-character side of the 1200/423 split, score n-way (and, with test heads,
/// M-way) 1-shot on fixed episodes of the 423 test characters.
/// </summary>
public sealed record MetaNetOmniglotConfig
{
    public const string PaperId = "munkhdalai2017-metanet";
    public const string ExperimentName = "metanet-omniglot";

    /// <summary>n: ways of the training episodes and of the trained heads.</summary>
    public int Ways { get; init; } = 5;
    public int Shots { get; init; } = 1;
    public int Queries { get; init; } = 10;
    /// <summary>Training episodes (one Adam step each). The paper's count is unknown (spec §6.2: the script runs until stopped).</summary>
    public int Episodes { get; init; } = 10_000;
    /// <summary>Test ways besides n, each through an untrained M-way head (spec §7.3); at most one other size per model.</summary>
    public int TestWays { get; init; }
    public int EvalEpisodes { get; init; } = 1000;
    public int EvalQueries { get; init; } = 10;
    public long EvalSeed { get; init; } = EpisodeTrainer.EvaluationSeed;
    public long Seed { get; init; } = 1;
    /// <summary>The variant (MetaNet, MetaNet−, MetaNet+, fast-only); its Ways/TestWays/Seed are set from this config.</summary>
    public MetaNetOptions Model { get; init; } = new();
    public bool Rotate { get; init; } = true;
    /// <summary>Episodes per point of the loss curve (each point the mean over its window).</summary>
    public int CurveEvery { get; init; } = 100;

    public MetaNetOptions ModelOptions => Model with { Ways = Ways, TestWays = TestWays, Seed = Seed };
    public string Slug => $"{ModelOptions.Name.Replace("MetaNet", "metanet").Replace("−", "-minus").Replace("+", "-plus").Replace(" (", "-").Replace(")", "").Replace(' ', '-')}-{Ways}way";

    public JsonObject ToJson() => new()
    {
        ["method"] = ModelOptions.Name, ["ways"] = Ways, ["shots"] = Shots, ["queries"] = Queries, ["episodes"] = Episodes,
        ["test_ways"] = TestWays, ["eval_episodes"] = EvalEpisodes, ["eval_queries"] = EvalQueries, ["eval_seed"] = EvalSeed,
        ["seed"] = Seed, ["rotate"] = Rotate, ["filters"] = Model.Filters, ["learning_rate"] = MetaNetOptions.LearningRate,
        ["clip_grad_norm"] = MetaNetOptions.ClipGradNorm, ["split"] = "MAML split: train + val = 1,200 characters, test 423",
    };
}

/// <summary>Trains (resumably, through <see cref="TrainingLoop"/>) and evaluates one MetaNet model; writes its result file.</summary>
public sealed class MetaNetOmniglot(MetaNetOmniglotConfig config, string paperDirectory)
{
    public MetaNetOmniglotConfig Config { get; } = config;
    public string CheckpointPath => Path.Combine(paperDirectory, "checkpoints", $"{MetaNetOmniglotConfig.ExperimentName}-{Config.Slug}.mntd");
    public string ResultPath => Path.Combine(paperDirectory, "results", $"{MetaNetOmniglotConfig.ExperimentName}-{Config.Slug}.json");

    /// <summary>The 1,200 training characters of the 1200/423 split: MAML's train (1,100) and val (100) parts together.</summary>
    public static ClassIndexedDataset TrainCharacters(Omniglot omniglot)
    {
        using var train = omniglot.Maml("train");
        using var val = omniglot.Maml("val");
        using var scope = NewDisposeScope();
        var images = cat([train.Images, val.Images], 0);
        var counts = Enumerable.Range(0, train.ClassCount).Select(train.Count).Concat(Enumerable.Range(0, val.ClassCount).Select(val.Count)).ToArray();
        return new ClassIndexedDataset("Omniglot 1200 (MAML train + val)", images.DetachFromDisposeScope(), [.. train.ClassNames, .. val.ClassNames], counts);
    }

    /// <summary>
    /// The training loop: episode i comes from a sampler seeded by (seed, i), so a resumed run sees the episodes an
    /// uninterrupted one would (the contrastive variant's pair sampler is the exception: its state is not checkpointed).
    /// Without `checkpoint` (a chapter's short run) nothing is read from or written to <see cref="CheckpointPath"/>.
    /// </summary>
    public TrainingOutcome Train(MetaNet metanet, ClassIndexedDataset train, bool showProgress = true, CancellationToken cancel = default, bool checkpoint = true)
    {
        if (Config.CurveEvery < 1) throw new ArgumentOutOfRangeException(nameof(Config.CurveEvery), Config.CurveEvery, "the loss curve needs at least one episode per point.");
        var model = metanet.Network;
        var parameters = model.parameters();
        using var optimizer = new optim.Adam(parameters, MetaNetOptions.LearningRate);
        var loop = new TrainingLoop($"{MetaNetOmniglotConfig.ExperimentName} {Config.Slug}", model, optimizer, Config.Episodes, checkpoint ? CheckpointPath : null)
        {
            ShowProgress = showProgress,
            CurveEvery = Config.CurveEvery,
            BeforeStep = () => EpisodeTrainer.ClipGradNorm(parameters, MetaNetOptions.ClipGradNorm),
        };
        EpisodeAugmentation? rotate = Config.Rotate ? EpisodeAugmentations.RandomRotationPerClass : null;
        return loop.Run(i =>
        {
            using var sampler = new EpisodeSampler(train, Config.Ways, Config.Shots, Config.Queries, EpisodeTrainer.StepSeed(Config.Seed, i), rotate);
            using var batch = sampler.Sample(1);
            return metanet.Loss(batch, Config.Ways);
        }, cancel);
    }

    public ResultFile? Run(Omniglot omniglot, string command, bool showProgress = true, CancellationToken cancel = default, TextWriter? log = null)
    {
        log ??= Console.Error;
        var clock = Stopwatch.StartNew();
        using var train = TrainCharacters(omniglot);
        using var test = omniglot.Maml("test");
        using var metanet = new MetaNet(Config.ModelOptions);
        var outcome = Train(metanet, train, showProgress, cancel);
        if (!outcome.Completed) return null;
        var cells = new List<ResultCell>();
        var evals = new JsonObject();
        foreach (var ways in new[] { Config.Ways, Config.TestWays }.Where(w => w > 0).Distinct())
        {
            var acc = EpisodeTrainer.Evaluate(metanet, test, ways, Config.Shots, Config.EvalQueries, Config.EvalEpisodes, Config.EvalSeed, chunk: 1, showProgress: showProgress);
            var s = EpisodeTrainer.Percent(acc);
            var column = ways == Config.Ways ? $"{ways}-way" : $"{Config.Ways}→{ways}-way";
            log.WriteLine($"{metanet.Name} {column} 1-shot: {s.Mean:0.00} ± {s.Ci95:0.00}% over {s.Count} episodes");
            cells.Add(new ResultCell(ways == Config.Ways ? "omniglot" : "generalisation", metanet.Name, column, s.Mean, s.Ci95, s.Count,
                                     $"{outcome.Iterations:N0} episodes of {Config.Ways}-way {Config.Shots}-shot {Config.Queries}-query (paper: unknown)"));
            evals[column] = new JsonArray(acc.Select(a => (JsonNode)Math.Round(a, 4)).ToArray());
        }
        var result = new ResultFile
        {
            Experiment = MetaNetOmniglotConfig.ExperimentName, Paper = MetaNetOmniglotConfig.PaperId, Command = command, Finished = DateTimeOffset.UtcNow,
            WallSeconds = Math.Round(clock.Elapsed.TotalSeconds, 1), Threads = get_num_threads(), Machine = ResultFile.DescribeMachine(),
            Seed = Config.Seed, Config = Config.ToJson(), Cells = cells,
            Details = new JsonObject
            {
                ["episodes"] = outcome.Iterations, ["train_seconds"] = Math.Round(outcome.Seconds, 1), ["loss_curve_every"] = outcome.CurveEvery,
                ["loss_curve"] = new JsonArray(outcome.LossCurve.Select(v => (JsonNode)Math.Round(v, 4)).ToArray()),
                ["per_episode_accuracy"] = evals,
            },
        };
        result.Save(ResultPath);
        return result;
    }
}
