using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using MetaNotebooks.Algorithms.Metric;
using MetaNotebooks.Data;
using MetaNotebooks.Models;
using MetaNotebooks.Results;
using MetaNotebooks.Training;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Experiments;

/// <summary>
/// Koch et al.'s own Omniglot setting. The per-layer learning rates, momenta and L2 weights their Bayesian optimisation
/// chose are not known (papers.md §5.2), so one documented setting replaces them: SGD, minibatch 128, learning rate
/// 0.01 decaying 1% per epoch, momentum 0.5 rising linearly by 0.04 per epoch to 0.9, L2 weight decay 2·10⁻⁴ on every
/// parameter. An "epoch" is <see cref="EpochPairs"/> freshly drawn pairs (Koch's smallest training set, 30,000 pairs;
/// their best model's epoch was 150,000 pairs × 9 with the 8 affine copies).
/// </summary>
public sealed record SiameseKochConfig
{
    public int BatchPairs { get; init; } = 128;
    public int EpochPairs { get; init; } = 30_000;
    public int MaxEpochs { get; init; } = 200;
    /// <summary>Stop when validation accuracy has not improved for this many epochs (Koch: 20).</summary>
    public int Patience { get; init; } = 20;
    /// <summary>Stop after this many SGD steps (null: MaxEpochs epochs); for smoke tests and speed measurements.</summary>
    public int? MaxSteps { get; init; }
    public double LearningRate { get; init; } = 0.01;
    public double LearningRateDecay { get; init; } = 0.99;
    public double MomentumStart { get; init; } = 0.5;
    public double MomentumEnd { get; init; } = 0.9;
    public double MomentumRise { get; init; } = 0.04;
    public double WeightDecay { get; init; } = 2e-4;
    /// <summary>Fraction of training pairs distorted (Koch: 8 affine copies beside each original, 8/9); 0: none.</summary>
    public double DistortedFraction { get; init; } = 8.0 / 9;
    public AffineDistortion Distortion { get; init; } = AffineDistortion.Koch;
    public long Seed { get; init; } = 1;
    /// <summary>Wall-clock limit of this invocation (null: none): it checkpoints, evaluates and stops; the next resumes.</summary>
    public double? Hours { get; init; }
    public int ValidationRunsPerAlphabet { get; init; } = WithinAlphabetOneShot.RunsPerAlphabet;
    public ulong ValidationSeed { get; init; } = 20_150_707;
    public ulong TestSeed { get; init; } = WithinAlphabetOneShot.TestSeed;

    public int StepsPerEpoch => Math.Max(1, EpochPairs / BatchPairs);
    public int TotalSteps => MaxSteps ?? MaxEpochs * StepsPerEpoch;

    public void Validate()
    {
        if (BatchPairs < 2 || BatchPairs % 2 != 0) throw new ArgumentException($"the minibatch must be an even number of pairs ≥ 2 (half same, half different), got {BatchPairs}");
        if (EpochPairs < BatchPairs) throw new ArgumentException($"an epoch ({EpochPairs} pairs) must hold at least one minibatch ({BatchPairs})");
        if (MaxEpochs < 1 || Patience < 1) throw new ArgumentException($"need at least one epoch and patience ≥ 1, got {MaxEpochs} and {Patience}");
        if (MaxSteps is < 0) throw new ArgumentException($"--steps must be ≥ 0, got {MaxSteps}");
        if (!(LearningRate > 0) || !(LearningRateDecay is > 0 and <= 1)) throw new ArgumentException($"need a learning rate > 0 and a decay in (0, 1], got {LearningRate}, {LearningRateDecay}");
        if (!(MomentumStart is >= 0 and < 1) || !(MomentumEnd is >= 0 and < 1) || !(MomentumRise >= 0)) throw new ArgumentException("momenta must be in [0, 1) and the rise ≥ 0");
        if (!(WeightDecay >= 0)) throw new ArgumentException($"weight decay must be ≥ 0, got {WeightDecay}");
        if (!(DistortedFraction is >= 0 and <= 1)) throw new ArgumentException($"the distorted fraction must be in [0, 1], got {DistortedFraction}");
        if (Hours is { } h && !(h > 0)) throw new ArgumentException($"--hours must be positive, got {h}");
        if (ValidationRunsPerAlphabet < 1) throw new ArgumentException("at least one validation run per alphabet");
        Distortion.Validate();
    }

    public double LearningRateAt(int step) => LearningRate * Math.Pow(LearningRateDecay, step / StepsPerEpoch);
    public double MomentumAt(int step) => Math.Min(MomentumEnd, MomentumStart + MomentumRise * (step / StepsPerEpoch));

    public JsonObject ToJson() => (JsonObject)JsonSerializer.SerializeToNode(this, ResultFile.Json)!;
}

/// <summary>Validation one-shot accuracy (%) after a number of SGD steps, and the seconds the validation took.</summary>
public sealed record ValidationPoint(int Step, int Epoch, double Accuracy, int Trials, double Seconds);

/// <summary>
/// Koch, Zemel &amp; Salakhutdinov (2015), Table 2: the convolutional Siamese network (<see cref="KochEncoder"/> twins,
/// <see cref="SiameseNetwork"/>'s weighted-L1 sigmoid head) trained with binary cross-entropy on balanced verification
/// pairs from the training alphabets and drawers (<see cref="OmniglotKoch"/>), affine distortions on the fly, validated
/// once per epoch by one-shot accuracy on the validation alphabets and drawers (the best epoch's parameters are kept;
/// training stops after <see cref="SiameseKochConfig.Patience"/> epochs without improvement), and scored on the 400
/// 20-way within-alphabet trials of the test alphabets, beside the 1-nearest-neighbour pixel baseline on the same trials.
/// Through the shared <see cref="TrainingLoop"/>: checkpoints, Ctrl-C, resume, NaN check, progress bar.
/// </summary>
public sealed class SiameseKoch(SiameseKochConfig config, string paperDirectory)
{
    public const string PaperId = "koch2015-siamese";
    public const string ExperimentName = "siamese-koch";
    public const string TableId = "oneshot20";
    public const string Column = "20-way 1-shot";
    public const string Method = "Convolutional Siamese Net";
    public const string PixelMethod = "1-Nearest Neighbor";
    public const string PaperBudget = "Koch: 150,000 pairs × 9 (8 affine copies) per epoch, up to 200 epochs with early stopping";

    public SiameseKochConfig Config { get; } = config;
    /// <summary>
    /// Where the checkpoints go: by default the output folder's checkpoints/. The CLI keeps them in papers/ (so that the
    /// same command resumes a committed one) while the results are written to a scratch folder first.
    /// </summary>
    public string CheckpointDirectory { get; init; } = Path.Combine(paperDirectory, "checkpoints");
    public string CheckpointPath => Path.Combine(CheckpointDirectory, $"{ExperimentName}.mntd");
    public string HistoryPath => Path.Combine(CheckpointDirectory, $"{ExperimentName}.validation.json");
    /// <summary>The best validated parameters (156 MB: kept with the checkpoints, not in results/).</summary>
    public string BestModelPath => Path.Combine(CheckpointDirectory, $"{ExperimentName}.best.mntd");
    public string ResultPath => Path.Combine(paperDirectory, "results", $"{ExperimentName}.json");

    /// <summary>Koch's network: two <see cref="KochEncoder"/> twins and the weighted-L1 head, αⱼ ~ N(0, 0.2), bias ~ N(0.5, 0.01).</summary>
    public static SiameseNetwork NewNetwork(long seed)
    {
        using var g = new Generator((ulong)seed);
        var network = new SiameseNetwork(new KochEncoder(g), KochEncoder.EmbeddingSize, g);
        nn.init.normal_(network.Head.weight, 0, KochEncoder.FcWeightStd, g);
        nn.init.normal_(network.Head.bias!, KochEncoder.BiasMean, KochEncoder.BiasStd, g);
        return network;
    }

    /// <summary>
    /// The loss of one minibatch: `pairs` from the training drawings, each image of a distorted pair with its own
    /// transform; binary cross-entropy of σ(Σ αⱼ|h₁ⱼ − h₂ⱼ| + b) against same = 1.
    /// </summary>
    public static Tensor PairLoss(SiameseNetwork network, OmniglotDrawings data, DrawingPairs pairs, SiameseKochConfig config, Generator generator)
    {
        using var scope = NewDisposeScope();
        var n = pairs.Count;
        var images = cat([data.Input(pairs.First), data.Input(pairs.Second)], 0);
        if (config.DistortedFraction > 0)
        {
            var transforms = config.Distortion.Sample(2 * n, generator);
            double[] u;
            using (var r = rand([n], generator, ScalarType.Float64)) u = r.ToArray<double>();
            for (var i = 0; i < n; i++)
                if (u[i] >= config.DistortedFraction) transforms[i] = transforms[n + i] = AffineDistortion.Transform.Identity;
            images = AffineDistortion.Apply(images, transforms);
        }
        using var same = tensor(pairs.Same, [n]);
        return network.PairLoss(images.narrow(0, 0, n), images.narrow(0, n, n), same).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// p(same) logits of every (test, candidate) pair of each run: [runs, ways, ways], in eval mode without a graph,
    /// `chunk` runs at a time.
    /// </summary>
    public static Tensor Scores(SiameseNetwork network, OmniglotDrawings data, IReadOnlyList<OneShotRun> runs, int chunk = 5)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var wasTraining = network.training;
        network.eval();
        try
        {
            var parts = new List<Tensor>();
            for (var start = 0; start < runs.Count; start += chunk)
            {
                using var inner = NewDisposeScope();
                var some = runs.Skip(start).Take(chunk).ToArray();
                var ways = some[0].Ways;
                var rows = some.SelectMany(r => r.TestRows).Concat(some.SelectMany(r => r.CandidateRows)).ToArray();
                var h = network.Encoder.forward(data.Input(rows));
                var test = h.narrow(0, 0, some.Length * ways).view(some.Length, ways, 1, -1);
                var candidates = h.narrow(0, some.Length * ways, some.Length * ways).view(some.Length, 1, ways, -1);
                parts.Add(network.PairLogits(test, candidates).MoveToOuterDisposeScope());
            }
            return cat(parts, 0).MoveToOuterDisposeScope();
        }
        finally
        {
            network.train(wasTraining);
        }
    }

    /// <summary>One-shot accuracy (%) of the network on the runs.</summary>
    public static double[] Correct(SiameseNetwork network, OmniglotDrawings data, IReadOnlyList<OneShotRun> runs)
    {
        using var scores = Scores(network, data, runs);
        return WithinAlphabetOneShot.Correct(scores);
    }

    /// <summary>
    /// Trains within the budget (resuming from the checkpoint), validating at every epoch boundary. Returns the network
    /// holding the parameters to test (the best validated ones), the outcome and the validation history.
    /// </summary>
    public (SiameseNetwork Network, TrainingOutcome Outcome, List<ValidationPoint> History, ValidationPoint Chosen, bool Stopped)
        Train(OmniglotKoch data, CancellationToken cancel = default, bool showProgress = true, TextWriter? log = null)
    {
        Config.Validate();
        log ??= TextWriter.Null;
        var network = NewNetwork(Config.Seed);
        using var optimizer = new optim.SGD(network.parameters(), Config.LearningRate, Config.MomentumStart, weight_decay: Config.WeightDecay);
        var pairs = new VerificationPairs(data.Train);
        var validationRuns = WithinAlphabetOneShot.Runs(data.Validation, Config.ValidationSeed, runsPerAlphabet: Config.ValidationRunsPerAlphabet);
        var history = LoadHistory();
        using var earlyStop = new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancel, earlyStop.Token);
        var stopped = false;

        ValidationPoint Validate(int step)
        {
            var clock = Stopwatch.StartNew();
            var correct = Correct(network, data.Validation, validationRuns);
            var point = new ValidationPoint(step, step / Config.StepsPerEpoch, Math.Round(100 * correct.Average(), 3), correct.Length, Math.Round(clock.Elapsed.TotalSeconds, 1));
            log.WriteLine($"{ExperimentName}: validation one-shot accuracy after {step:N0} steps (epoch {point.Epoch}): {point.Accuracy:0.0}% over {point.Trials} trials");
            return point;
        }

        void EpochEnd(int step)
        {
            if (history.Any(p => p.Step == step)) return;
            var point = Validate(step);
            if (history.Count == 0 || point.Accuracy > history.Max(p => p.Accuracy)) save(network.state_dict(), BestModelPath);
            history.Add(point);
            SaveHistory(history);
            var best = history.MaxBy(p => p.Accuracy)!;
            if (point.Epoch - best.Epoch >= Config.Patience)
            {
                log.WriteLine($"{ExperimentName}: no improvement for {Config.Patience} epochs (best {best.Accuracy:0.0}% at epoch {best.Epoch}); stopping.");
                stopped = true;
                earlyStop.Cancel();
            }
        }

        var loop = new TrainingLoop(ExperimentName, network, optimizer, Config.TotalSteps, CheckpointPath) { ShowProgress = showProgress, CurveEvery = 5 };
        var outcome = loop.Run(i =>
        {
            if (i > 0 && i % Config.StepsPerEpoch == 0) EpochEnd(i);
            optimizer.LearningRate = Config.LearningRateAt(i);
            optimizer.Momentum = Config.MomentumAt(i);
            using var g = new Generator(EpisodeTrainer.StepSeed(Config.Seed, i));
            var batch = pairs.Sample(Config.BatchPairs, g);
            return PairLoss(network, data.Train, batch, Config, g);
        }, linked.Token);
        if (outcome.Completed && outcome.Iterations % Config.StepsPerEpoch == 0 && outcome.Iterations > 0) EpochEnd(outcome.Iterations);

        // The parameters to test: the best validated epoch, or the state reached if it validates better (a budget
        // that ends mid-epoch); with no epoch validated yet, the state reached.
        var reached = history.FirstOrDefault(p => p.Step == outcome.Iterations) ?? Validate(outcome.Iterations);
        var bestEpoch = history.Count > 0 ? history.MaxBy(p => p.Accuracy)! : null;
        var chosen = reached;
        if (bestEpoch is not null && bestEpoch.Accuracy > reached.Accuracy && File.Exists(BestModelPath))
        {
            using var scope = NewDisposeScope();
            network.load_state_dict(load(BestModelPath));
            chosen = bestEpoch;
        }
        return (network, outcome, history, chosen, stopped);
    }

    /// <summary>
    /// Trains within the budget, tests on the 400 trials (and the pixel baseline on the same trials), writes the result
    /// file. Null when cancelled by the user (Ctrl-C: the checkpoint is kept).
    /// </summary>
    public ResultFile? Run(OmniglotKoch data, string command, CancellationToken cancel = default, bool showProgress = true, TextWriter? log = null)
    {
        log ??= Console.Error;
        var clock = Stopwatch.StartNew();
        using var budget = new TimeBudget(Config.Hours, cancel);
        var (network, outcome, history, chosen, stopped) = Train(data, budget.Token, showProgress, log);
        using (network)
        {
            if (cancel.IsCancellationRequested) return null;
            var runs = WithinAlphabetOneShot.Runs(data.Test, Config.TestSeed);
            var evalClock = Stopwatch.StartNew();
            var siamese = Correct(network, data.Test, runs);
            var evalSeconds = evalClock.Elapsed.TotalSeconds;
            using var pixelScores = WithinAlphabetOneShot.PixelScores(data.Test, runs);
            var pixels = WithinAlphabetOneShot.Correct(pixelScores);
            var s = Summary.Of(siamese.Select(v => 100 * v).ToArray());
            var p = Summary.Of(pixels.Select(v => 100 * v).ToArray());
            log.WriteLine($"{Method}: {s.Mean:0.0} ± {s.Ci95:0.0}% over {s.Count} trials; 1-NN pixels: {p.Mean:0.0} ± {p.Ci95:0.0}%");

            var steps = outcome.Iterations;
            var pairsSeen = (long)steps * Config.BatchPairs;
            // Validations at epoch boundaries before the last step ran inside the training loop's clock: not training time.
            var trainSeconds = outcome.Seconds - history.Where(v => v.Step < steps).Sum(v => v.Seconds);
            var pairsPerSecond = trainSeconds > 0 ? pairsSeen / trainSeconds : double.NaN;
            var budgetText = $"{pairsSeen:N0} pairs ({steps:N0} SGD steps of {Config.BatchPairs}, {(double)steps / Config.StepsPerEpoch:0.##} epochs of {Config.EpochPairs:N0} pairs) " +
                             $"in {trainSeconds / 3600:0.00} h of training on {get_num_threads()} thread(s), {pairsPerSecond:0.0} pairs/s; " +
                             $"tested with the parameters after {chosen.Step:N0} steps (validation {chosen.Accuracy:0.0}%) ({PaperBudget}, ≤ 270 million pairs)";
            var cells = new List<ResultCell>
            {
                new(TableId, Method, Column, s.Mean, s.Ci95, s.Count, budgetText),
                new(TableId, PixelMethod, Column, p.Mean, p.Ci95, p.Count, "no training: Euclidean distance between the 105×105 drawings, on the same 400 trials"),
            };
            var details = new JsonObject
            {
                ["steps"] = steps,
                ["pairs_seen"] = pairsSeen,
                ["completed"] = outcome.Completed,
                ["early_stopped"] = stopped,
                ["train_seconds"] = Math.Round(trainSeconds, 1),
                ["train_seconds_with_validation"] = Math.Round(outcome.Seconds, 1),
                ["pairs_per_second"] = Math.Round(pairsPerSecond, 2),
                ["test_eval_seconds"] = Math.Round(evalSeconds, 1),
                ["loss_curve_every"] = outcome.CurveEvery,
                ["loss_curve"] = new JsonArray(outcome.LossCurve.Select(v => (JsonNode)Math.Round(v, 5)).ToArray()),
                ["validation"] = JsonSerializer.SerializeToNode(history, ResultFile.Json),
                ["tested_parameters"] = JsonSerializer.SerializeToNode(chosen, ResultFile.Json),
                ["split"] = new JsonObject
                {
                    ["train"] = Describe(data.Train), ["validation"] = Describe(data.Validation), ["test"] = Describe(data.Test),
                },
                ["test_runs"] = new JsonArray(runs.Select(r => (JsonNode)new JsonObject
                {
                    ["alphabet"] = data.Test.Alphabets[r.Alphabet],
                    ["test_drawer"] = data.Test.Drawers[r.TestDrawer],
                    ["candidate_drawer"] = data.Test.Drawers[r.CandidateDrawer],
                    ["characters"] = new JsonArray(r.Characters.Select(c => (JsonNode)data.Test.CharacterNames[c].Split('/')[1]).ToArray()),
                }).ToArray()),
                ["per_trial_correct"] = new JsonObject
                {
                    [Method] = new JsonArray(siamese.Select(v => (JsonNode)(int)v).ToArray()),
                    [PixelMethod] = new JsonArray(pixels.Select(v => (JsonNode)(int)v).ToArray()),
                },
            };
            var result = new ResultFile
            {
                Experiment = ExperimentName, Paper = PaperId, Command = command, Finished = DateTimeOffset.UtcNow,
                WallSeconds = Math.Round(clock.Elapsed.TotalSeconds, 1), Threads = get_num_threads(), Machine = ResultFile.DescribeMachine(),
                Seed = Config.Seed, Config = Config.ToJson(), Cells = cells, Details = details,
            };
            result.Save(ResultPath);
            return result;
        }
    }

    private static JsonObject Describe(OmniglotDrawings d) => new()
    {
        ["alphabets"] = new JsonArray(d.Alphabets.Select(a => (JsonNode)a).ToArray()),
        ["drawers"] = new JsonArray(d.Drawers.Select(x => (JsonNode)x).ToArray()),
        ["characters"] = d.CharacterCount,
        ["drawings"] = d.ImageCount,
    };

    private List<ValidationPoint> LoadHistory()
    {
        // The history belongs to the checkpoint: without one, a fresh run starts a fresh history.
        if (!File.Exists(CheckpointPath) || !File.Exists(HistoryPath)) return [];
        return JsonSerializer.Deserialize<List<ValidationPoint>>(File.ReadAllText(HistoryPath), ResultFile.Json) ?? [];
    }

    private void SaveHistory(List<ValidationPoint> history) =>
        AtomicFile.WriteAllText(HistoryPath, JsonSerializer.Serialize(history, ResultFile.Json) + "\n");
}
