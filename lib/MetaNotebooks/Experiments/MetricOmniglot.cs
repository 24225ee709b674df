using System.Diagnostics;
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

/// <summary>A metric-learning reproduction on Omniglot: the learner to build, its training runs, the evaluation protocol.</summary>
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
    /// <summary>Vinyals split part to train on: "trainval" (1,200 characters × 4 rotations) is the 1200/423 protocol.</summary>
    public string TrainPart { get; init; } = "trainval";
    public int EvalEpisodes { get; init; } = 1000;
    public int EvalQueries { get; init; } = 15;
    public long EvalSeed { get; init; } = EpisodeTrainer.EvaluationSeed;
    public long Seed { get; init; } = 1;
    /// <summary>At most this many hours of training per model in one invocation; the model is then evaluated with the
    /// episodes it reached, and the same command resumes from its checkpoint. Null: train to the iteration count.</summary>
    public double? Hours { get; init; }

    public JsonObject ToJson() => new()
    {
        ["method"] = Method, ["variant"] = Variant, ["train_part"] = TrainPart, ["eval_episodes"] = EvalEpisodes, ["eval_queries"] = EvalQueries,
        ["eval_seed"] = EvalSeed, ["seed"] = Seed,
        ["runs"] = new JsonArray(Runs.Select(r => (JsonNode)new JsonObject
        {
            ["slug"] = r.Slug,
            ["training"] = System.Text.Json.JsonSerializer.SerializeToNode(r.Training, ResultFile.Json),
            ["evaluations"] = new JsonArray(r.Evaluations.Select(e => (JsonNode)$"{e.Ways}-way {e.Shots}-shot").ToArray()),
        }).ToArray()),
    };

    public static string Column(int ways, int shots) => $"{ways}-way {shots}-shot";
}

/// <summary>
/// Trains and evaluates one metric learner on Omniglot (Vinyals split, rotations as classes), writes
/// papers/&lt;paper&gt;/results/&lt;experiment&gt;.json with one cell per (ways, shots) and the budget beside it. The
/// learners are built by a factory from a seed, so the experiment is the same for all four methods.
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
        foreach (var run in Config.Runs)
        {
            using (new EpisodeSampler(train, run.Training.Ways, run.Training.Shots, run.Training.Queries, 0)) { }
            foreach (var (ways, shots) in run.Evaluations)
                using (EpisodeTrainer.EvaluationEpisodes(test, ways, shots, Config.EvalQueries, Config.EvalSeed)) { }
        }
    }

    public ResultFile? Run(Omniglot omniglot, string command, CancellationToken cancel = default, TextWriter? log = null)
    {
        log ??= Console.Error;
        var clock = Stopwatch.StartNew();
        using var train = omniglot.Vinyals(Config.TrainPart);
        using var test = omniglot.Vinyals("test");
        var cells = new List<ResultCell>();
        var details = new JsonObject();
        foreach (var run in Config.Runs)
        {
            var learner = newLearner(run);
            using var model = learner.Model;
            using var budget = new TimeBudget(Config.Hours, cancel);
            var outcome = EpisodeTrainer.Train(learner, train, run.Training, CheckpointPath(run), budget.Token, $"{Config.Experiment} {run.Slug}", Config.Variant);
            if (cancel.IsCancellationRequested) return null;
            save(model.state_dict(), ModelPath(run));
            var evals = new JsonObject();
            foreach (var (ways, shots) in run.Evaluations)
            {
                var acc = EpisodeTrainer.Evaluate(learner, test, ways, shots, Config.EvalQueries, Config.EvalEpisodes, Config.EvalSeed, showProgress: true);
                var s = EpisodeTrainer.Percent(acc);
                log.WriteLine($"{Config.Method} {MetricOmniglotConfig.Column(ways, shots)}: {s.Mean:0.00} ± {s.Ci95:0.00}% over {s.Count} episodes");
                cells.Add(new ResultCell(Config.TableId, Config.Method, MetricOmniglotConfig.Column(ways, shots), s.Mean, s.Ci95, s.Count,
                                         Budget(run.Training, outcome.Iterations, Config.PaperBudget, outcome.Seconds, Config.Variant)));
                evals[MetricOmniglotConfig.Column(ways, shots)] = new JsonArray(acc.Select(a => (JsonNode)Math.Round(a, 4)).ToArray());
            }
            details[run.Slug] = new JsonObject
            {
                ["iterations"] = outcome.Iterations,
                ["completed"] = outcome.Completed,
                ["train_seconds"] = Math.Round(outcome.Seconds, 1),
                ["loss_curve_every"] = outcome.CurveEvery,
                ["loss_curve"] = new JsonArray(outcome.LossCurve.Select(v => (JsonNode)Math.Round(v, 5)).ToArray()),
                ["per_episode_accuracy"] = evals,
            };
            // Each trained model's cells are written as soon as they exist: a run stopped during a later model keeps them.
            var pending = Config.Runs.SkipWhile(r => r != run).Skip(1).Select(r => r.Slug).ToList();
            var partial = Result(command, clock, cells, details, pending);
            partial.Save(ResultPath);
            if (pending.Count == 0) return partial;
            log.WriteLine($"{Config.Experiment}: wrote {ResultPath} with the cells of {run.Slug}; still to train: {string.Join(", ", pending)}.");
        }
        return Result(command, clock, cells, details, []);
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
