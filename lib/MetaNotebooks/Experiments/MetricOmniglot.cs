using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using MetaNotebooks.Algorithms.Metric;
using MetaNotebooks.Data;
using MetaNotebooks.Results;
using MetaNotebooks.Training;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Experiments;

/// <summary>One trained model of a metric-learning reproduction: how it is trained and which test settings it is scored on.</summary>
public sealed record MetricTrainingRun(string Slug, EpisodeTrainingOptions Training, (int Ways, int Shots)[] Evaluations);

/// <summary>
/// A metric-learning reproduction (Omniglot or Mini-ImageNet): the learner to build, its training runs, the evaluation
/// protocol.
/// </summary>
public sealed record MetricOmniglotConfig
{
    public required string Experiment { get; init; }
    public required string PaperId { get; init; }
    /// <summary>The row of the paper's table our numbers go into.</summary>
    public required string Method { get; init; }
    public required IReadOnlyList<MetricTrainingRun> Runs { get; init; }
    /// <summary>What the paper trained for, stated beside our budget.</summary>
    public required string PaperBudget { get; init; }
    /// <summary>Where our learner departs from the paper's description (stated beside every number), or null.</summary>
    public string? Variant { get; init; }
    public string TableId { get; init; } = "omniglot";
    /// <summary>The table's columns name the shot only ("1-shot"): Mini-ImageNet's tables are all 5-way.</summary>
    public bool ShotColumns { get; init; }
    /// <summary>Vinyals split part to train on: "trainval" (1,200 characters × 4 rotations) is the 1200/423 protocol.</summary>
    public string TrainPart { get; init; } = "trainval";
    public int EvalEpisodes { get; init; } = 1000;
    public int EvalQueries { get; init; } = 15;
    public long EvalSeed { get; init; } = EpisodeTrainer.EvaluationSeed;
    public long Seed { get; init; } = 1;
    /// <summary>At most this many hours of training per model in one invocation; the model is then evaluated with the
    /// episodes it reached, and the same command resumes from its checkpoint. Null: train to the iteration count.</summary>
    public double? Hours { get; init; }
    /// <summary>Test accuracy on the first <see cref="CurveEpisodes"/> fixed test episodes every this many training
    /// episodes (from episode 0), for a learning curve; 0: no curve.</summary>
    public int CurveEvery { get; init; }
    public int CurveEpisodes { get; init; } = 100;
    /// <summary>Test episodes scored per chunk when images go through the model (curve points smaller than the test set).</summary>
    public int EvalChunk { get; init; } = 50;

    public JsonObject ToJson() => new()
    {
        ["method"] = Method, ["variant"] = Variant, ["train_part"] = TrainPart, ["eval_episodes"] = EvalEpisodes, ["eval_queries"] = EvalQueries,
        ["eval_seed"] = EvalSeed, ["seed"] = Seed, ["curve_every"] = CurveEvery, ["curve_episodes"] = CurveEpisodes,
        ["runs"] = new JsonArray(Runs.Select(r => (JsonNode)new JsonObject
        {
            ["slug"] = r.Slug,
            ["training"] = System.Text.Json.JsonSerializer.SerializeToNode(r.Training, ResultFile.Json),
            ["evaluations"] = new JsonArray(r.Evaluations.Select(e => (JsonNode)$"{e.Ways}-way {e.Shots}-shot").ToArray()),
        }).ToArray()),
    };

    public static string Column(int ways, int shots) => $"{ways}-way {shots}-shot";

    /// <summary>The name of a (ways, shots) setting in this reproduction's table.</summary>
    public string ColumnOf(int ways, int shots) => ShotColumns ? $"{shots}-shot" : Column(ways, shots);
}

/// <summary>A point of a learning curve: accuracy (%) on the first `Episodes` fixed test episodes of a setting after `Iteration` training episodes.</summary>
public sealed record AccuracyPoint(int Iteration, string Column, int Episodes, double Mean, double Ci95);

/// <summary>
/// Trains and evaluates one metric learner on a dataset's train and test classes (Omniglot: Vinyals split, rotations as
/// classes; Mini-ImageNet: Ravi &amp; Larochelle's split), writes papers/&lt;paper&gt;/results/&lt;experiment&gt;.json with one
/// cell per (ways, shots) and the budget beside it, and, when asked, a learning curve on the fixed test episodes. The
/// learners are built by a factory from a seed, so the experiment is the same for every method and dataset.
/// </summary>
public sealed class MetricOmniglot(MetricOmniglotConfig config, Func<MetricTrainingRun, IEpisodeLearner> newLearner, string paperDirectory)
{
    public MetricOmniglotConfig Config { get; } = config;
    /// <summary>
    /// Where the checkpoints go: by default the output folder's checkpoints/. The CLI keeps them in papers/ (so that the
    /// same command resumes a committed one) while the results are written to a scratch folder first.
    /// </summary>
    public string CheckpointDirectory { get; init; } = Path.Combine(paperDirectory, "checkpoints");
    public string CheckpointPath(MetricTrainingRun run) => Path.Combine(CheckpointDirectory, $"{Config.Experiment}-{run.Slug}.mntd");
    public string ModelPath(MetricTrainingRun run) => Path.Combine(paperDirectory, "results", $"{Config.Experiment}-{run.Slug}.model.mntd");
    public string ResultPath => Path.Combine(paperDirectory, "results", $"{Config.Experiment}.json");
    /// <summary>The learning curve of a run so far; it belongs to the checkpoint (ignored without it).</summary>
    public string CurvePath(MetricTrainingRun run) => Path.Combine(CheckpointDirectory, $"{Config.Experiment}-{run.Slug}.curve.json");

    public static string Budget(EpisodeTrainingOptions t, int done, string paper, double? trainSeconds = null, string? variant = null) =>
        (variant is null ? "" : $"{variant}; ") + $"{done:N0}{(done < t.Iterations ? $" of {t.Iterations:N0} planned" : "")} episodes" +
        $"{(trainSeconds is { } sec ? $" ({sec / 3600:0.00} h on {get_num_threads()} thread(s))" : "")} of {t.Ways}-way {t.Shots}-shot {t.Queries}-query{(t.TasksPerStep > 1 ? $" ×{t.TasksPerStep} per step" : "")}, Adam {t.LearningRate:g3}" +
        $"{(t.HalveEvery > 0 ? $" halved every {t.HalveEvery:N0}" : "")} (paper: {paper})";

    /// <summary>
    /// Checks that every training and test episode of the config fits the data (classes, images per class), by building
    /// the samplers the run will use: a bad setting fails here, before a checkpoint is deleted or a model trained.
    /// </summary>
    public void CheckData(Omniglot omniglot)
    {
        using var train = omniglot.Vinyals(Config.TrainPart);
        using var test = omniglot.Vinyals("test");
        CheckData(train, test);
    }

    /// <inheritdoc cref="CheckData(Omniglot)"/>
    public void CheckData(ClassIndexedDataset train, ClassIndexedDataset test)
    {
        foreach (var run in Config.Runs)
        {
            using (new EpisodeSampler(train, run.Training.Ways, run.Training.Shots, run.Training.Queries, 0)) { }
            foreach (var (ways, shots) in run.Evaluations)
                using (EpisodeTrainer.EvaluationEpisodes(test, ways, shots, Config.EvalQueries, Config.EvalSeed)) { }
        }
    }

    /// <summary>On Omniglot: trains on the Vinyals <see cref="MetricOmniglotConfig.TrainPart"/>, tests on its test part.</summary>
    public ResultFile? Run(Omniglot omniglot, string command, CancellationToken cancel = default, TextWriter? log = null)
    {
        using var train = omniglot.Vinyals(Config.TrainPart);
        using var test = omniglot.Vinyals("test");
        return Run(train, test, command, cancel, log);
    }

    /// <summary>
    /// Trains each run on `train` (within the budget; resuming its checkpoint), scores it on the fixed episodes of `test`
    /// and writes the result file after each model. Null when the user cancelled (the checkpoints are kept).
    /// </summary>
    public ResultFile? Run(ClassIndexedDataset train, ClassIndexedDataset test, string command, CancellationToken cancel = default, TextWriter? log = null)
    {
        log ??= Console.Error;
        var clock = Stopwatch.StartNew();
        var cells = new List<ResultCell>();
        var details = new JsonObject();
        foreach (var run in Config.Runs)
        {
            var learner = newLearner(run);
            using var model = learner.Model;
            using var budget = new TimeBudget(Config.Hours, cancel);
            var (curve, curveSeconds) = LoadCurve(run);
            var outcome = EpisodeTrainer.Train(learner, train, run.Training, CheckpointPath(run), budget.Token, $"{Config.Experiment} {run.Slug}", Config.Variant,
                                               Config.CurveEvery > 0 ? i => AddCurvePoints(learner, test, run, i, curve, ref curveSeconds) : null);
            if (cancel.IsCancellationRequested) return null;
            save(model.state_dict(), ModelPath(run));
            // Curve points are measured inside the training steps: their time is not training time.
            var trainSeconds = outcome.Seconds - curveSeconds;
            var evals = new JsonObject();
            var finals = new List<AccuracyPoint>();
            foreach (var (ways, shots) in run.Evaluations)
            {
                var acc = EpisodeTrainer.Evaluate(learner, test, ways, shots, Config.EvalQueries, Config.EvalEpisodes, Config.EvalSeed, showProgress: true);
                var s = EpisodeTrainer.Percent(acc);
                var column = Config.ColumnOf(ways, shots);
                log.WriteLine($"{Config.Method} {column}: {s.Mean:0.00} ± {s.Ci95:0.00}% over {s.Count} episodes");
                cells.Add(new ResultCell(Config.TableId, Config.Method, column, s.Mean, s.Ci95, s.Count,
                                         Budget(run.Training, outcome.Iterations, Config.PaperBudget, trainSeconds, Config.Variant)));
                evals[column] = new JsonArray(acc.Select(a => (JsonNode)Math.Round(a, 4)).ToArray());
                finals.Add(new AccuracyPoint(outcome.Iterations, column, s.Count, Math.Round(s.Mean, 3), Math.Round(s.Ci95, 3)));
            }
            details[run.Slug] = new JsonObject
            {
                ["iterations"] = outcome.Iterations,
                ["completed"] = outcome.Completed,
                ["train_seconds"] = Math.Round(trainSeconds, 1),
                ["seconds_per_episode"] = outcome.Iterations > 0 ? Math.Round(trainSeconds / outcome.Iterations, 3) : null,
                ["loss_curve_every"] = outcome.CurveEvery,
                ["loss_curve"] = new JsonArray(outcome.LossCurve.Select(v => (JsonNode)Math.Round(v, 5)).ToArray()),
                ["per_episode_accuracy"] = evals,
            };
            if (Config.CurveEvery > 0)
            {
                details[run.Slug]!["curve_eval_seconds"] = Math.Round(curveSeconds, 1);
                // The curve ends with the full test: a point at the last episode on all the test episodes.
                details[run.Slug]!["accuracy_curve"] = JsonSerializer.SerializeToNode(curve.Concat(finals).OrderBy(p => p.Iteration).ThenBy(p => p.Episodes).ToList(), ResultFile.Json);
            }
            // Each trained model's cells are written as soon as they exist: a run stopped during a later model keeps them.
            var pending = Config.Runs.SkipWhile(r => r != run).Skip(1).Select(r => r.Slug).ToList();
            var partial = Result(command, clock, cells, details, pending);
            partial.Save(ResultPath);
            if (pending.Count == 0) return partial;
            log.WriteLine($"{Config.Experiment}: wrote {ResultPath} with the cells of {run.Slug}; still to train: {string.Join(", ", pending)}.");
        }
        return Result(command, clock, cells, details, []);
    }

    /// <summary>Before training episode i: when i is a curve step not yet measured, accuracy on the first CurveEpisodes fixed test episodes of each setting.</summary>
    private void AddCurvePoints(IEpisodeLearner learner, ClassIndexedDataset test, MetricTrainingRun run, int i, List<AccuracyPoint> curve, ref double seconds)
    {
        if (i % Config.CurveEvery != 0 || curve.Any(p => p.Iteration == i)) return;
        var clock = Stopwatch.StartNew();
        foreach (var (ways, shots) in run.Evaluations)
        {
            // Embedding the whole test set once pays only when the episodes would show the model more images than that.
            var images = (long)Config.CurveEpisodes * ways * (shots + Config.EvalQueries);
            var acc = EpisodeTrainer.Evaluate(learner, test, ways, shots, Config.EvalQueries, Config.CurveEpisodes, Config.EvalSeed,
                                              chunk: Config.EvalChunk, embedOnce: images >= test.ImageCount);
            var s = EpisodeTrainer.Percent(acc);
            curve.Add(new AccuracyPoint(i, Config.ColumnOf(ways, shots), s.Count, Math.Round(s.Mean, 3), Math.Round(s.Ci95, 3)));
        }
        seconds += clock.Elapsed.TotalSeconds;
        var node = new JsonObject
        {
            ["points"] = JsonSerializer.SerializeToNode(curve.OrderBy(p => p.Iteration).ToList(), ResultFile.Json),
            ["eval_seconds"] = Math.Round(seconds, 3),
        };
        Directory.CreateDirectory(Path.GetDirectoryName(CurvePath(run))!);
        AtomicFile.WriteAllText(CurvePath(run), node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    private (List<AccuracyPoint> Points, double Seconds) LoadCurve(MetricTrainingRun run)
    {
        // The curve belongs to the checkpoint: without one (a fresh run, or --restart), a fresh curve.
        if (Config.CurveEvery == 0 || !File.Exists(CheckpointPath(run)) || !File.Exists(CurvePath(run))) return ([], 0);
        var node = JsonNode.Parse(File.ReadAllText(CurvePath(run)))!;
        return (node["points"].Deserialize<List<AccuracyPoint>>(ResultFile.Json) ?? [], node["eval_seconds"]!.GetValue<double>());
    }

    private ResultFile Result(string command, Stopwatch clock, List<ResultCell> cells, JsonObject details, IReadOnlyList<string> pending)
    {
        var d = (JsonObject)details.DeepClone();
        if (pending.Count > 0) d["pending_models"] = new JsonArray(pending.Select(p => (JsonNode)p).ToArray());
        return new ResultFile
        {
            Experiment = Config.Experiment, Paper = Config.PaperId, Command = command, Finished = DateTimeOffset.UtcNow,
            WallSeconds = Math.Round(clock.Elapsed.TotalSeconds, 1), Threads = get_num_threads(), Machine = ResultFile.DescribeMachine(),
            Seed = Config.Seed, Config = Config.ToJson(), Cells = [.. cells], Details = d,
        };
    }
}
