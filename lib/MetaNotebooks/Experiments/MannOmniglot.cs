using System.Diagnostics;
using System.Text.Json.Nodes;
using MetaNotebooks.Algorithms.Mann;
using MetaNotebooks.Data;
using MetaNotebooks.Results;
using MetaNotebooks.Training;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Experiments;

/// <summary>Which learner a MANN reproduction trains: the memory-augmented network or the LSTM baseline.</summary>
public enum SequenceModel { Mann, Lstm }

/// <summary>
/// Santoro et al.'s one-hot Omniglot task (ICML 2016, §4.1, Table 1): episodes of 5 classes × 10 drawings shown in a
/// random order (50 steps), input (x_t, one-hot y_{t−1}), 20×20 images; labels assigned afresh in every episode. Train
/// on the 1,200-character side of the 1200/423 split with each class of a training episode rotated by a random multiple of
/// 90° (the paper's rotation augmentation as this library does it; its translations are not confirmed and not done),
/// score the accuracy at each presentation of a class on fixed episodes of the 423 test characters.
/// </summary>
public sealed record MannOmniglotConfig
{
    public const string PaperId = "santoro2016-mann";
    public const string ExperimentName = "mann-omniglot";
    /// <summary>The paper's image side (resized from 105 like every Omniglot image here: Pillow LANCZOS, <see cref="Omniglot"/>).</summary>
    public const int ImageSize = 20;

    public SequenceModel Model { get; init; } = SequenceModel.Mann;
    public int Classes { get; init; } = 5;
    public int PerClass { get; init; } = 10;
    /// <summary>Training episodes (the paper's 100,000 is unconfirmed); trained in batches of <see cref="BatchSize"/>.</summary>
    public int Episodes { get; init; } = 100_000;
    /// <summary>Episodes per Adam step (16, the reimplementations' batch).</summary>
    public int BatchSize { get; init; } = 16;
    public int EvalEpisodes { get; init; } = 1000;
    public long EvalSeed { get; init; } = EpisodeTrainer.EvaluationSeed;
    public long Seed { get; init; } = 1;
    public bool Rotate { get; init; } = true;
    /// <summary>At most this many hours of training in one invocation; then scored with the episodes reached, resumable.</summary>
    public double? Hours { get; init; }
    /// <summary>Adam's step size (the reimplementations' 1e−3; the paper's RMSProp 1e−4 is unconfirmed).</summary>
    public double LearningRate { get; init; } = MannOptions.LearningRate;
    /// <summary>Adam steps per point of the loss curve.</summary>
    public int CurveEvery { get; init; } = 50;
    /// <summary>Memory and controller sizes; Classes, InputSize and Seed are set from this config.</summary>
    public MannOptions Sizes { get; init; } = new();

    public MannOptions ModelOptions => Sizes with { Classes = Classes, InputSize = ImageSize * ImageSize, Seed = Seed };
    public int Steps => Episodes / BatchSize;
    public string Slug => Model == SequenceModel.Mann ? "mann" : "lstm";
    public string MethodName => Model == SequenceModel.Mann ? "MANN" : "LSTM";

    public void Validate()
    {
        if (Episodes < 0 || EvalEpisodes < 2) throw new ArgumentException($"--episodes must be ≥ 0 and --eval-episodes ≥ 2, got {Episodes} and {EvalEpisodes}");
        if (BatchSize < 1) throw new ArgumentException($"--batch must be ≥ 1, got {BatchSize}");
        if (Episodes % BatchSize != 0) throw new ArgumentException($"--episodes ({Episodes}) must be a multiple of --batch ({BatchSize}): training runs whole batches");
        if (Classes < 2 || PerClass < 1) throw new ArgumentException($"--classes must be ≥ 2 and --per-class ≥ 1, got {Classes} and {PerClass}");
        if (PerClass > Omniglot.DrawingsPerCharacter) throw new ArgumentException($"--per-class {PerClass}: an Omniglot character has {Omniglot.DrawingsPerCharacter} drawings");
        if (Hours is { } h && !(h > 0 && double.IsFinite(h))) throw new ArgumentException($"--hours must be a positive number of hours, got {h}");
        if (!(LearningRate > 0 && double.IsFinite(LearningRate))) throw new ArgumentException($"the learning rate must be a positive number, got {LearningRate}");
        if (CurveEvery < 1) throw new ArgumentException($"the loss curve needs at least one step per point, got {CurveEvery}");
        if (!Enum.IsDefined(Model)) throw new ArgumentException($"unknown model {Model}");
        ModelOptions.Validate();
    }

    public SequenceLearner CreateLearner(ScalarType? dtype = null) =>
        Model == SequenceModel.Mann ? new Mann(ModelOptions, dtype) : new LstmBaseline(ModelOptions, dtype);

    public JsonObject ToJson() => new()
    {
        ["method"] = MethodName, ["classes"] = Classes, ["per_class"] = PerClass, ["steps_per_episode"] = Classes * PerClass,
        ["episodes"] = Episodes, ["batch"] = BatchSize, ["eval_episodes"] = EvalEpisodes, ["eval_seed"] = EvalSeed, ["seed"] = Seed,
        ["rotate"] = Rotate, ["image_size"] = ImageSize, ["hidden"] = ModelOptions.Hidden,
        ["memory_slots"] = Model == SequenceModel.Mann ? ModelOptions.Slots : null, ["memory_width"] = Model == SequenceModel.Mann ? ModelOptions.Width : null,
        ["read_heads"] = Model == SequenceModel.Mann ? ModelOptions.Heads : null, ["gamma"] = Model == SequenceModel.Mann ? ModelOptions.Gamma : null,
        ["learning_rate"] = LearningRate, ["clip_grad_norm"] = MannOptions.ClipGradNorm,
        ["split"] = "MAML split: train + val = 1,200 characters, test 423", ["hours"] = Hours,
    };
}

/// <summary>Trains (resumably, through <see cref="TrainingLoop"/>) and scores one learner of the MANN task; writes its result file.</summary>
public sealed class MannOmniglot(MannOmniglotConfig config, string paperDirectory)
{
    public MannOmniglotConfig Config { get; } = config;
    public string CheckpointDirectory { get; init; } = Path.Combine(paperDirectory, "checkpoints");
    public string CheckpointPath => Path.Combine(CheckpointDirectory, $"{MannOmniglotConfig.ExperimentName}-{Config.Slug}.mntd");
    public string ResultPath => Path.Combine(paperDirectory, "results", $"{MannOmniglotConfig.ExperimentName}-{Config.Slug}.json");
    public string ModelPath => Path.Combine(paperDirectory, "results", $"{MannOmniglotConfig.ExperimentName}-{Config.Slug}.model.mntd");

    /// <summary>Omniglot at the paper's 20×20 (cached like every other size).</summary>
    public static Omniglot LoadOmniglot(TextWriter? log = null) => Omniglot.Load(new OmniglotOptions { ImageSize = MannOmniglotConfig.ImageSize }, log: log);

    /// <summary>
    /// The training loop: Adam step i trains on a batch of sequences drawn with the seed (seed, i), so a resumed run sees
    /// the episodes an uninterrupted one would, and the MANN and the LSTM see the same episodes for the same seed.
    /// Without `checkpoint` (a chapter's short run) nothing is read from or written to <see cref="CheckpointPath"/>.
    /// </summary>
    public TrainingOutcome Train(SequenceLearner learner, ClassIndexedDataset train, bool showProgress = true, CancellationToken cancel = default, bool checkpoint = true)
    {
        Config.Validate();
        var parameters = learner.parameters();
        using var optimizer = new optim.Adam(parameters, Config.LearningRate);
        var loop = new TrainingLoop($"{MannOmniglotConfig.ExperimentName} {Config.Slug}", learner, optimizer, Config.Steps, checkpoint ? CheckpointPath : null)
        {
            ShowProgress = showProgress,
            CurveEvery = Config.CurveEvery,
            Settings = $"{Config.MethodName} ({Config.ModelOptions.Describe(Config.Model == SequenceModel.Mann)}); {Config.Classes} classes × {Config.PerClass}; " +
                       $"batch {Config.BatchSize}; Adam {Config.LearningRate}; rotate {Config.Rotate}; seed {Config.Seed}",
            BeforeStep = () => EpisodeTrainer.ClipGradNorm(parameters, MannOptions.ClipGradNorm),
        };
        EpisodeAugmentation? rotate = Config.Rotate ? EpisodeAugmentations.RandomRotationPerClass : null;
        return loop.Run(i =>
        {
            using var sampler = new LabelSequenceSampler(train, Config.Classes, Config.PerClass, EpisodeTrainer.StepSeed(Config.Seed, i), rotate);
            using var batch = sampler.Sample(Config.BatchSize);
            return learner.Loss(batch.Images, batch.Labels);
        }, cancel);
    }

    /// <summary>The fixed test episodes (the same for every learner and run): seeded by `seed`, no augmentation.</summary>
    public static LabelSequenceSampler TestEpisodes(ClassIndexedDataset test, int classes, int perClass, long seed = EpisodeTrainer.EvaluationSeed) =>
        new(test, classes, perClass, unchecked((ulong)seed));

    /// <summary>Per test episode, the accuracy at each presentation of <see cref="InstanceAccuracy.PaperInstances"/> (n ≤ per class): [episodes][K].</summary>
    public static double[][] Evaluate(SequenceLearner learner, ClassIndexedDataset test, int classes, int perClass, int episodes, long seed = EpisodeTrainer.EvaluationSeed, int chunk = 50)
    {
        var which = InstanceAccuracy.PaperInstances.Where(n => n <= perClass).ToArray();
        using var sampler = TestEpisodes(test, classes, perClass, seed);
        using var _ = no_grad();
        var rows = new List<double[]>();
        for (var done = 0; done < episodes; done += chunk)
        {
            using var scope = NewDisposeScope();
            using var batch = sampler.Sample(Math.Min(chunk, episodes - done));
            var logits = learner.Logits(batch.Images, batch.Labels);
            rows.AddRange(InstanceAccuracy.PerEpisode(logits, batch.Labels, batch.Instances, which));
        }
        return rows.ToArray();
    }

    /// <summary>Trains within the budget, scores the test episodes and writes the result file; null when cancelled by the user.</summary>
    public ResultFile? Run(Omniglot omniglot, string command, bool showProgress = true, CancellationToken cancel = default, TextWriter? log = null)
    {
        Config.Validate();
        log ??= Console.Error;
        var clock = Stopwatch.StartNew();
        using var train = MetaNetOmniglot.TrainCharacters(omniglot);
        using var test = omniglot.Maml("test");
        using var learner = Config.CreateLearner();
        using var budget = new TimeBudget(Config.Hours, cancel);
        var outcome = Train(learner, train, showProgress, budget.Token);
        if (cancel.IsCancellationRequested) return null;
        save(learner.state_dict(), ModelPath);
        var episodes = outcome.Iterations * Config.BatchSize;
        var trained = $"{episodes:N0}{(outcome.Completed ? "" : $" of {Config.Episodes:N0} planned")} episodes in batches of {Config.BatchSize} " +
                      $"({outcome.Seconds / 3600:0.00} h on {get_num_threads()} thread(s)); paper: 100,000 (unconfirmed)";
        var which = InstanceAccuracy.PaperInstances.Where(n => n <= Config.PerClass).ToArray();
        var perEpisode = Evaluate(learner, test, Config.Classes, Config.PerClass, Config.EvalEpisodes, Config.EvalSeed);
        var cells = new List<ResultCell>();
        var byInstance = new JsonObject();
        for (var k = 0; k < which.Length; k++)
        {
            var values = perEpisode.Select(r => r[k]).ToArray();
            var s = EpisodeTrainer.Percent(values);
            var column = InstanceAccuracy.Ordinal(which[k]);
            cells.Add(new ResultCell("omniglot", Config.MethodName, column, s.Mean, s.Ci95, s.Count, trained));
            byInstance[column] = new JsonArray(values.Select(v => (JsonNode)Math.Round(v, 4)).ToArray());
        }
        log.WriteLine($"{Config.MethodName} accuracy by presentation on {Config.EvalEpisodes:N0} test episodes: " +
                      string.Join(", ", cells.Select(c => $"{c.Column} {c.Mean:0.0} ± {c.Ci95:0.0}")));
        var details = new JsonObject
        {
            ["episodes"] = episodes, ["steps"] = outcome.Iterations, ["completed"] = outcome.Completed, ["train_seconds"] = Math.Round(outcome.Seconds, 1),
            ["loss_curve_every"] = outcome.CurveEvery,
            ["loss_curve"] = new JsonArray(outcome.LossCurve.Select(v => (JsonNode)Math.Round(v, 4)).ToArray()),
            ["per_episode_accuracy"] = byInstance,
        };
        var result = new ResultFile
        {
            Experiment = MannOmniglotConfig.ExperimentName, Paper = MannOmniglotConfig.PaperId, Command = command, Finished = DateTimeOffset.UtcNow,
            WallSeconds = Math.Round(clock.Elapsed.TotalSeconds, 1), Threads = get_num_threads(), Machine = ResultFile.DescribeMachine(),
            Seed = Config.Seed, Config = Config.ToJson(), Cells = cells, Details = details,
        };
        result.Save(ResultPath);
        return result;
    }
}
