using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using MetaNotebooks.Algorithms.Baselines;
using MetaNotebooks.Data;
using MetaNotebooks.Models;
using MetaNotebooks.Results;
using MetaNotebooks.Training;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Experiments;

/// <summary>
/// Ravi &amp; Larochelle's two baselines on Mini-ImageNet. Where the paper is silent we chose: the body of their learner
/// (4 × [3×3 conv with 32 filters, batch norm, ReLU, 2×2 max-pool], 800 features on 84×84) with a 64-way linear head;
/// Adam 1e-3 on batches of 64 images drawn uniformly from the 38,400 train images, no augmentation, no early stopping
/// (the run's length or --hours decides); nearest neighbour by cosine similarity of the body's features; fine-tuning by
/// a fixed number of full-batch SGD steps on each episode's support set, every weight with a new zero head, the rate
/// chosen on validation episodes (as the paper: "we use the meta-validation set to search over SGD hyperparameters").
/// </summary>
public sealed record BaselinesMiniImageNetConfig
{
    public int Iterations { get; init; } = 20_000;
    public int BatchSize { get; init; } = 64;
    public int Filters { get; init; } = 32;
    public double LearningRate { get; init; } = 1e-3;
    public long Seed { get; init; } = 1;
    public double? Hours { get; init; }
    /// <summary>Nearest-neighbour 5-way 1-shot accuracy on the first <see cref="CurveEpisodes"/> shared test episodes every this many steps; 0: none.</summary>
    public int CurveEvery { get; init; } = 1000;
    public int CurveEpisodes { get; init; } = 100;
    public int EvalEpisodes { get; init; } = 600;
    public int FineTuneSteps { get; init; } = 10;
    public double[] FineTuneRates { get; init; } = [1e-3, 1e-2, 1e-1];
    /// <summary>Validation episodes per candidate rate (5-way, the shot being tuned for).</summary>
    public int ValidationEpisodes { get; init; } = 30;
    public int[] Shots { get; init; } = [1, 5];

    public void Validate()
    {
        if (Iterations < 0 || BatchSize < 1 || Filters < 1 || !(LearningRate > 0)) throw new ArgumentException("iterations ≥ 0, batch ≥ 1, filters ≥ 1, learning rate > 0");
        if (CurveEvery < 0 || CurveEpisodes < 2 || EvalEpisodes < 2 || ValidationEpisodes < 2) throw new ArgumentException("curve-every ≥ 0; curve, test and validation episodes ≥ 2");
        if (FineTuneSteps < 1 || FineTuneRates.Length == 0 || FineTuneRates.Any(r => !(r > 0))) throw new ArgumentException("fine-tuning needs ≥ 1 step and positive rates");
    }

    /// <summary>What makes the pretraining this pretraining (checked when resuming; not its length).</summary>
    public string Settings => $"baseline classifier; conv4 {Filters} filters + linear; batch {BatchSize}; Adam {LearningRate:g6}; seed {Seed}";

    public JsonObject ToJson() => (JsonObject)JsonSerializer.SerializeToNode(this, ResultFile.Json)!;
}

public sealed class BaselinesMiniImageNet(BaselinesMiniImageNetConfig config, string paperDirectory)
{
    public const string PaperId = "ravi2017-metalearner";
    public const string ExperimentName = "baselines-miniimagenet";
    public const string NearestNeighbourMethod = "Baseline-nearest-neighbor";
    public const string FineTuneMethod = "Baseline-finetune";

    public BaselinesMiniImageNetConfig Config { get; } = config;
    /// <summary>
    /// Where the checkpoints go: by default the output folder's checkpoints/. The CLI keeps them in papers/ (so that the
    /// same command resumes a committed one) while the results are written to a scratch folder first.
    /// </summary>
    public string CheckpointDirectory { get; init; } = Path.Combine(paperDirectory, "checkpoints");
    public string CheckpointPath => Path.Combine(CheckpointDirectory, $"{ExperimentName}-classifier.mntd");
    public string CurvePath => Path.Combine(CheckpointDirectory, $"{ExperimentName}-classifier.curve.json");
    public string ModelPath => Path.Combine(paperDirectory, "results", $"{ExperimentName}-classifier.model.mntd");
    public string ResultPath => Path.Combine(paperDirectory, "results", $"{ExperimentName}.json");

    /// <summary>The baseline network for a dataset of `classes` classes of [C, H, W] images.</summary>
    public PretrainedClassifier NewClassifier(int classes, long[] imageShape)
    {
        using var g = new Generator((ulong)Config.Seed);
        var body = new ConvEncoder(imageShape[0], Config.Filters, generator: g);
        long features;
        using (no_grad())
        using (var probe = body.forward(zeros([2, .. imageShape]))) features = probe.size(1);
        return new PretrainedClassifier(body, features, classes, g);
    }

    /// <summary>
    /// Refuses a training set that shares a class with the test (or validation) set: the baselines' classifier must never
    /// see a class it is later tested on.
    /// </summary>
    public static void CheckDisjoint(ClassIndexedDataset train, params ClassIndexedDataset[] heldOut)
    {
        foreach (var other in heldOut)
        {
            var shared = train.ClassNames.Intersect(other.ClassNames).ToArray();
            if (shared.Length > 0)
                throw new ArgumentException($"{train.Name} shares {shared.Length} class(es) with {other.Name} (e.g. {shared[0]}): the baseline classifier must be trained on the train classes only.");
        }
    }

    /// <summary>Pretrains the classifier on `train` (resuming its checkpoint, within the budget), with the nearest-neighbour curve on `test`.</summary>
    public (PretrainedClassifier Model, TrainingOutcome Outcome, List<AccuracyPoint> Curve, double CurveSeconds) Pretrain(
        ClassIndexedDataset train, ClassIndexedDataset test, CancellationToken cancel = default, bool showProgress = true)
    {
        Config.Validate();
        CheckDisjoint(train, test);
        var model = NewClassifier(train.ClassCount, train.ImageShape);
        using var optimizer = new optim.Adam(model.parameters(), Config.LearningRate);
        var classOfRow = tensor(Enumerable.Range(0, train.ClassCount).SelectMany(c => Enumerable.Repeat((long)c, train.Count(c))).ToArray());
        var (curve, curveSeconds) = LoadCurve();
        var loop = new TrainingLoop($"{ExperimentName} classifier", model, optimizer, Config.Iterations, CheckpointPath)
        {
            ShowProgress = showProgress, CurveEvery = 100, Settings = Config.Settings,
        };
        try
        {
            var outcome = loop.Run(i =>
            {
                if (Config.CurveEvery > 0 && i % Config.CurveEvery == 0 && curve.All(p => p.Iteration != i))
                {
                    var clock = Stopwatch.StartNew();
                    var s = EpisodeTrainer.Percent(EpisodeTrainer.Evaluate(new FeatureNearestNeighbour(model.Body), test, 5, 1, 15, Config.CurveEpisodes, chunk: 1, embedOnce: false));
                    curve.Add(new AccuracyPoint(i, "1-shot", s.Count, Math.Round(s.Mean, 3), Math.Round(s.Ci95, 3)));
                    curveSeconds += clock.Elapsed.TotalSeconds;
                    SaveCurve(curve, curveSeconds);
                }
                using var g = new Generator(EpisodeTrainer.StepSeed(Config.Seed, i));
                var rows = randint(0, train.ImageCount, [Config.BatchSize], g);
                var raw = train.Images.index_select(0, rows);
                var x = train.Transform is null ? raw : train.Transform(raw);
                return nn.functional.cross_entropy(model.forward(x), classOfRow.index_select(0, rows));
            }, cancel);
            return (model, outcome, curve.OrderBy(p => p.Iteration).ToList(), curveSeconds);
        }
        finally { classOfRow.Dispose(); }
    }

    /// <summary>
    /// Pretrains within the budget, then scores both baselines on the shared 5-way test episodes of each shot (the
    /// fine-tuning rate chosen per shot on validation episodes) and writes the result file. Null when the user cancelled.
    /// </summary>
    public ResultFile? Run(ClassIndexedDataset train, ClassIndexedDataset val, ClassIndexedDataset test, string command, CancellationToken cancel = default, TextWriter? log = null)
    {
        log ??= Console.Error;
        CheckDisjoint(train, val, test);
        var clock = Stopwatch.StartNew();
        using var budget = new TimeBudget(Config.Hours, cancel);
        var (model, outcome, curve, curveSeconds) = Pretrain(train, test, budget.Token);
        using (model)
        {
            if (cancel.IsCancellationRequested) return null;
            Directory.CreateDirectory(Path.GetDirectoryName(ModelPath)!);
            save(model.state_dict(), ModelPath);
            var trainSeconds = outcome.Seconds - curveSeconds;
            var budgetText = $"classifier: {outcome.Iterations:N0}{(outcome.Completed ? "" : $" of {Config.Iterations:N0} planned")} steps of {Config.BatchSize} images " +
                             $"({outcome.Iterations * (double)Config.BatchSize / train.ImageCount:0.0} epochs, {trainSeconds / 3600:0.00} h on {get_num_threads()} thread(s)), " +
                             $"conv4 {Config.Filters} filters, Adam {Config.LearningRate:g3}";
            var cells = new List<ResultCell>();
            var details = new JsonObject
            {
                ["iterations"] = outcome.Iterations, ["completed"] = outcome.Completed, ["train_seconds"] = Math.Round(trainSeconds, 1),
                ["curve_eval_seconds"] = Math.Round(curveSeconds, 1), ["loss_curve_every"] = outcome.CurveEvery,
                ["loss_curve"] = new JsonArray(outcome.LossCurve.Select(v => (JsonNode)Math.Round(v, 5)).ToArray()),
                ["training_classes"] = new JsonArray(train.ClassNames.Select(c => (JsonNode)c).ToArray()),
            };
            var nnCurve = new List<AccuracyPoint>(curve);
            var nearest = new FeatureNearestNeighbour(model.Body);
            model.eval();
            foreach (var shots in Config.Shots)
            {
                var column = $"{shots}-shot";
                var acc = EpisodeTrainer.Evaluate(nearest, test, 5, shots, 15, Config.EvalEpisodes, showProgress: true);
                var s = EpisodeTrainer.Percent(acc);
                log.WriteLine($"{NearestNeighbourMethod} {column}: {s.Mean:0.00} ± {s.Ci95:0.00}% over {s.Count} episodes");
                cells.Add(new ResultCell("miniimagenet", NearestNeighbourMethod, column, s.Mean, s.Ci95, s.Count, budgetText + "; cosine nearest neighbour on the body's features"));
                if (shots == 1) nnCurve.Add(new AccuracyPoint(outcome.Iterations, column, s.Count, Math.Round(s.Mean, 3), Math.Round(s.Ci95, 3)));
                details[$"nearest_neighbour_{column}"] = new JsonArray(acc.Select(a => (JsonNode)Math.Round(a, 4)).ToArray());
                if (cancel.IsCancellationRequested) return null;

                // The fine-tuning rate for this shot: the best on validation episodes (the paper's search, over the rate only).
                var search = new JsonObject();
                var (bestRate, bestVal) = (Config.FineTuneRates[0], double.NegativeInfinity);
                foreach (var rate in Config.FineTuneRates)
                {
                    var v = EpisodeTrainer.Percent(EpisodeTrainer.Evaluate(new FineTuneBaseline(model.Body, Config.FineTuneSteps, rate), val, 5, shots, 15, Config.ValidationEpisodes, chunk: 1, showProgress: true));
                    log.WriteLine($"{FineTuneMethod} {column}, validation, rate {rate:g3}: {v}");
                    search[rate.ToString("g3", System.Globalization.CultureInfo.InvariantCulture)] = Math.Round(v.Mean, 3);
                    if (v.Mean > bestVal) (bestRate, bestVal) = (rate, v.Mean);
                    if (cancel.IsCancellationRequested) return null;
                }
                var fine = EpisodeTrainer.Evaluate(new FineTuneBaseline(model.Body, Config.FineTuneSteps, bestRate), test, 5, shots, 15, Config.EvalEpisodes, chunk: 1, showProgress: true);
                if (cancel.IsCancellationRequested) return null;
                var f = EpisodeTrainer.Percent(fine);
                log.WriteLine($"{FineTuneMethod} {column}: {f.Mean:0.00} ± {f.Ci95:0.00}% over {f.Count} episodes (rate {bestRate:g3})");
                cells.Add(new ResultCell("miniimagenet", FineTuneMethod, column, f.Mean, f.Ci95, f.Count,
                                         budgetText + $"; fine-tuned per episode: {Config.FineTuneSteps} SGD steps of {bestRate:g3} (chosen on {Config.ValidationEpisodes} validation episodes among {string.Join(", ", Config.FineTuneRates.Select(r => r.ToString("g3")))})"));
                details[$"fine_tune_{column}"] = new JsonArray(fine.Select(a => (JsonNode)Math.Round(a, 4)).ToArray());
                details[$"fine_tune_rate_search_{column}"] = search;
            }
            details["nearest_neighbour_curve"] = JsonSerializer.SerializeToNode(nnCurve, ResultFile.Json);
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

    private (List<AccuracyPoint>, double) LoadCurve()
    {
        // The curve belongs to the checkpoint: without one (a fresh run, or --restart), a fresh curve.
        if (!File.Exists(CheckpointPath) || !File.Exists(CurvePath)) return ([], 0);
        var node = JsonNode.Parse(File.ReadAllText(CurvePath))!;
        return (node["points"].Deserialize<List<AccuracyPoint>>(ResultFile.Json) ?? [], node["eval_seconds"]!.GetValue<double>());
    }

    private void SaveCurve(List<AccuracyPoint> curve, double seconds)
    {
        var node = new JsonObject
        {
            ["points"] = JsonSerializer.SerializeToNode(curve.OrderBy(p => p.Iteration).ToList(), ResultFile.Json),
            ["eval_seconds"] = Math.Round(seconds, 3),
        };
        Directory.CreateDirectory(Path.GetDirectoryName(CurvePath)!);
        AtomicFile.WriteAllText(CurvePath, node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }
}
