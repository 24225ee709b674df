using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using MetaNotebooks.Algorithms.MetaLearner;
using MetaNotebooks.Data;
using MetaNotebooks.Models;
using MetaNotebooks.Results;
using MetaNotebooks.Training;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Experiments;

/// <summary>
/// Settings of the meta-learner LSTM on Mini-ImageNet (Ravi &amp; Larochelle 2017; the authors' code
/// twitter-research/meta-learning-lstm, config/lstm/train-imagenet-1shot.lua and -5shot.lua): 5-way, 15 queries per
/// class, one episode per meta-iteration, Adam 0.001, the meta-gradient's norm clipped to 0.25, the learner 4 × [3×3 conv
/// 32, batch norm, ReLU, 2×2 max-pool] + linear. Updates per task: 12 of batch 5 at 1-shot; at 5-shot the authors' final
/// config makes 8 updates of batch 25 (the whole support set), 75,000 / 50,000 episodes. Use <see cref="ForCell"/>.
/// </summary>
public sealed record MetaLearnerMiniImageNetConfig
{
    public int Ways { get; init; } = 5;
    public int Shots { get; init; } = 1;
    /// <summary>Query images per class.</summary>
    public int Queries { get; init; } = 15;
    /// <summary>T: learner updates per task, at training and at test.</summary>
    public int InnerSteps { get; init; } = 12;
    /// <summary>Support images per update.</summary>
    public int InnerBatch { get; init; } = 5;
    public int Iterations { get; init; } = 75_000;
    /// <summary>Episodes per meta-iteration (the authors' code: 1).</summary>
    public int MetaBatch { get; init; } = 1;
    public double MetaLearningRate { get; init; } = 1e-3;
    /// <summary>The meta-gradient's joint L2 norm is clipped to this (the authors' maxGradNorm).</summary>
    public double ClipNorm { get; init; } = 0.25;
    public int Filters { get; init; } = 32;
    /// <summary>Image side (84: the paper's; a smaller one only for quick tests, as the images are resized to it).</summary>
    public int ImageSize { get; init; } = MiniImageNet.ImageSize;
    public long Seed { get; init; } = 1;
    /// <summary>Wall-clock limit of this invocation (null: none). The run checkpoints, evaluates and stops; the next one resumes.</summary>
    public double? Hours { get; init; }
    public int EvalTasks { get; init; } = 600;
    /// <summary>Test accuracy on the first <see cref="CurveTasks"/> fixed test tasks every this many iterations, for the curve.</summary>
    public int EvalEvery { get; init; } = 500;
    public int CurveTasks { get; init; } = 100;

    /// <summary>The authors' settings of the 5-way K-shot cell.</summary>
    public static MetaLearnerMiniImageNetConfig ForCell(int shots) => shots switch
    {
        1 => new() { Shots = 1, InnerSteps = 12, InnerBatch = 5, Iterations = 75_000 },
        5 => new() { Shots = 5, InnerSteps = 8, InnerBatch = 25, Iterations = 50_000 },
        _ => throw new ArgumentOutOfRangeException(nameof(shots), shots, "the paper's Mini-ImageNet cells are 1-shot and 5-shot."),
    };

    public const string MethodName = "Meta-Learner LSTM (OURS)";
    /// <summary>"5w1s"; another network or update schedule is another run with its own files ("5w5s-T5b5", "5w1s-16f-28px").</summary>
    public string Slug
    {
        get
        {
            var authors = Shots is 1 or 5 ? ForCell(Shots) : null;
            var schedule = authors is not null && (InnerSteps, InnerBatch) == (authors.InnerSteps, authors.InnerBatch) ? "" : $"-T{InnerSteps}b{InnerBatch}";
            return $"{Ways}w{Shots}s{schedule}{(Filters != 32 ? $"-{Filters}f" : "")}{(ImageSize != MiniImageNet.ImageSize ? $"-{ImageSize}px" : "")}";
        }
    }
    public string Column => $"{Shots}-shot";

    public LearnedUpdateOptions Update => new() { Steps = InnerSteps, BatchSize = InnerBatch };

    public void Validate()
    {
        if (Ways < 2 || Shots < 1 || Queries < 1) throw new ArgumentException($"need ways ≥ 2, shots ≥ 1, queries ≥ 1; got {Ways}, {Shots}, {Queries}");
        if (Shots + Queries > 600) throw new ArgumentException($"shots + queries must be ≤ 600 (images per Mini-ImageNet class), got {Shots + Queries}");
        if (Iterations < 0 || MetaBatch < 1) throw new ArgumentException("iterations ≥ 0 and meta-batch ≥ 1");
        Update.Validate(Ways * Shots);
        if (!(MetaLearningRate > 0) || double.IsInfinity(MetaLearningRate) || !(ClipNorm > 0)) throw new ArgumentException("the meta learning rate and the clipping norm must be positive numbers");
        if (Filters < 1) throw new ArgumentException($"filters must be ≥ 1, got {Filters}");
        if (ImageSize < 16 || ImageSize > MiniImageNet.ImageSize) throw new ArgumentException($"image size must be in 16…{MiniImageNet.ImageSize}, got {ImageSize}");
        if (EvalTasks < 2 || CurveTasks < 2 || EvalEvery < 1) throw new ArgumentException("evaluation needs ≥ 2 tasks and eval-every ≥ 1");
        if (Hours is { } h && !(h > 0)) throw new ArgumentException($"--hours must be positive, got {h}");
    }

    /// <summary>What makes the run this run (checked when resuming; not its length).</summary>
    public string Settings => $"{MethodName}; {Ways}-way {Shots}-shot {Queries}-query; {InnerSteps} updates of batch {InnerBatch}; meta-batch {MetaBatch}; " +
                              $"Adam {MetaLearningRate:g6}; clip norm {ClipNorm:g6}; {Filters} filters at {ImageSize} px; seed {Seed}";

    public JsonObject ToJson() => (JsonObject)JsonSerializer.SerializeToNode(this, ResultFile.Json)!;
}

/// <summary>
/// Ravi &amp; Larochelle (2017) Table 1, Mini-ImageNet: meta-train the meta-learner LSTM on the 64 training classes, then
/// train the learner with it on each of the fixed test tasks shared by every Mini-ImageNet method here
/// (<see cref="EpisodeTrainer.EvaluationEpisodes"/> on the test split, 5-way K-shot 15-query, the first 600) and report
/// the query accuracy (mean ± 95% CI). Batch norm uses the current batch's statistics, at training and at test (the
/// authors' code uses running averages at test). No model selection on the validation classes. Resumable under a budget
/// (a checkpoint every two minutes, the curve on the first 100 test tasks beside it), as the MAML cells.
/// </summary>
public sealed class MetaLearnerMiniImageNet(MetaLearnerMiniImageNetConfig config, string paperDirectory, DataPaths? paths = null, TextWriter? log = null)
{
    public const string PaperId = BaselinesMiniImageNet.PaperId;
    public const string ExperimentName = "metalearner-miniimagenet";
    public MetaLearnerMiniImageNetConfig Config { get; } = config;

    /// <summary>
    /// Where the checkpoints go: by default the output folder's checkpoints/. The CLI keeps them in papers/ (so that the
    /// same command resumes a committed one) while the results are written to a scratch folder first.
    /// </summary>
    public string CheckpointDirectory { get; init; } = Path.Combine(paperDirectory, "checkpoints");
    public string CheckpointPath => Path.Combine(CheckpointDirectory, $"{ExperimentName}-{Config.Slug}.mntd");
    public string CurvePath => Path.Combine(CheckpointDirectory, $"{ExperimentName}-{Config.Slug}.curve.json");
    public string ModelPath => Path.Combine(paperDirectory, "results", $"{ExperimentName}-{Config.Slug}.model.mntd");
    public string ResultPath => Path.Combine(paperDirectory, "results", $"{ExperimentName}-{Config.Slug}.json");

    /// <summary>The learner (MAML's Mini-ImageNet network: batch norm on the current batch) and its meta-learner, seeded.</summary>
    public MetaLearnerLstm NewModel()
    {
        using var g = new Generator((ulong)Config.Seed);
        var learner = MamlConvNet.MiniImageNet(Config.Ways, g, filters: Config.Filters, imageSize: Config.ImageSize);
        return new MetaLearnerLstm(learner, g);
    }

    public ClassIndexedDataset Split(string split) => MamlMiniImageNet.LoadSplit(split, Config.ImageSize, paths, log);

    private EpisodeSampler TestEpisodes(ClassIndexedDataset test) =>
        EpisodeTrainer.EvaluationEpisodes(test, Config.Ways, Config.Shots, Config.Queries, EpisodeTrainer.EvaluationSeed);

    /// <summary>Trains (resuming from the checkpoint), measuring test accuracy every EvalEvery iterations. The model stays loaded.</summary>
    public (MetaLearnerLstm Model, TrainingOutcome Outcome, List<CurvePoint> Curve, double EvalSeconds) Train(CancellationToken cancel = default, bool showProgress = true)
    {
        var c = Config;
        c.Validate();
        var model = NewModel();
        try
        {
            using var optimizer = new optim.Adam(model.parameters(), c.MetaLearningRate);
            using var train = Split("train");
            using var test = Split("test");
            var (curve, evalSeconds) = LoadCurve();
            var parameters = model.parameters();
            var loop = new TrainingLoop($"meta-learner LSTM {c.Slug}", model, optimizer, c.Iterations, CheckpointPath)
            {
                ShowProgress = showProgress, CurveEvery = 50, Settings = c.Settings,
                BeforeStep = () => EpisodeTrainer.ClipGradNorm(parameters, c.ClipNorm),
            };
            var outcome = loop.Run(i =>
            {
                if (i % c.EvalEvery == 0 && curve.All(p => p.Iteration != i))
                {
                    var clock = Stopwatch.StartNew();
                    var s = Summary.Of(Evaluate(model, test, c.CurveTasks));
                    curve.Add(new CurvePoint(i, c.CurveTasks, [Math.Round(s.Mean, 3)], [Math.Round(s.Ci95, 3)], [c.InnerSteps]));
                    evalSeconds += clock.Elapsed.TotalSeconds;
                    SaveCurve(curve, evalSeconds);
                }
                using var sampler = new EpisodeSampler(train, c.Ways, c.Shots, c.Queries, EpisodeTrainer.StepSeed(c.Seed, i));
                using var batch = sampler.Sample(c.MetaBatch);
                return LearnedUpdate.MetaLoss(model, batch, c.Update);
            }, cancel);
            return (model, outcome, curve.OrderBy(p => p.Iteration).ToList(), evalSeconds);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Query accuracy (%) of each of the first `tasks` fixed test tasks after the learner's T updates by the meta-learner; with `trace`, the gates.</summary>
    public double[] Evaluate(MetaLearnerLstm model, ClassIndexedDataset test, int tasks, List<(double[] Input, double[] Forget)>? trace = null)
    {
        using var sampler = TestEpisodes(test);
        var accuracies = new List<double>(tasks);
        while (accuracies.Count < tasks)
        {
            using var scope = NewDisposeScope();
            using var batch = sampler.Sample(Math.Min(10, tasks - accuracies.Count));
            accuracies.AddRange(LearnedUpdate.Accuracy(model, batch, Config.Update, trace).Select(a => 100 * a));
        }
        return accuracies.ToArray();
    }

    /// <summary>Evaluation on the test split with an already trained model (e.g. loaded from <see cref="ModelPath"/>).</summary>
    public double[] EvaluateOnTest(MetaLearnerLstm model, int? tasks = null, List<(double[] Input, double[] Forget)>? trace = null)
    {
        using var test = Split("test");
        return Evaluate(model, test, tasks ?? Config.EvalTasks, trace);
    }

    /// <summary>
    /// Trains within the budget, evaluates on the fixed test tasks and writes the result file (with the gates' means per
    /// update and layer over the test tasks). Null when cancelled by the user (Ctrl-C: the checkpoint is kept); a run
    /// stopped by --hours is evaluated and reported with the iterations reached.
    /// </summary>
    public ResultFile? Run(string command, CancellationToken cancel = default, bool showProgress = true)
    {
        var c = Config;
        var clock = Stopwatch.StartNew();
        using var budget = new TimeBudget(c.Hours, cancel);
        var (model, outcome, curve, evalSeconds) = Train(budget.Token, showProgress);
        using (model)
        {
            if (cancel.IsCancellationRequested) return null;
            Directory.CreateDirectory(Path.GetDirectoryName(ModelPath)!);
            save(model.state_dict(), ModelPath);
            var evalClock = Stopwatch.StartNew();
            var trace = new List<(double[] Input, double[] Forget)>();
            var perTask = EvaluateOnTest(model, trace: trace);
            var gates = LearnedUpdate.Summarise(model.Layout, trace, c.InnerSteps);
            var evalFinalSeconds = evalClock.Elapsed.TotalSeconds;
            var summary = Summary.Of(perTask);
            var final = new CurvePoint(outcome.Iterations, c.EvalTasks, [Math.Round(summary.Mean, 3)], [Math.Round(summary.Ci95, 3)], [c.InnerSteps]);
            var trainSeconds = outcome.Seconds - evalSeconds;
            var secondsPerIteration = outcome.Iterations > 0 ? trainSeconds / outcome.Iterations : double.NaN;
            var budgetText = $"{outcome.Iterations:N0} of {c.Iterations:N0} meta-iterations (authors' code: {ForCellIterations(c.Shots)}), " +
                             $"{c.InnerSteps} updates of batch {c.InnerBatch}, {trainSeconds / 3600:0.00} h training on {get_num_threads()} thread(s), {secondsPerIteration:0.00} s/iteration";
            var details = new JsonObject
            {
                ["iterations"] = outcome.Iterations,
                ["completed"] = outcome.Completed,
                ["train_seconds"] = Math.Round(trainSeconds, 1),
                ["eval_seconds_during_training"] = Math.Round(evalSeconds, 1),
                ["final_eval_seconds"] = Math.Round(evalFinalSeconds, 1),
                ["seconds_per_iteration"] = Math.Round(secondsPerIteration, 4),
                ["loss_curve_every"] = outcome.CurveEvery,
                ["loss_curve"] = new JsonArray(outcome.LossCurve.Select(v => (JsonNode)Math.Round(v, 5)).ToArray()),
                ["accuracy_curve"] = JsonSerializer.SerializeToNode(curve, ResultFile.Json),
                ["final"] = JsonSerializer.SerializeToNode(final, ResultFile.Json),
                ["per_task_final"] = new JsonArray(perTask.Select(v => (JsonNode)Math.Round(v, 3)).ToArray()),
                ["gates"] = JsonSerializer.SerializeToNode(Rounded(gates), ResultFile.Json),
            };
            var result = new ResultFile
            {
                Experiment = $"{ExperimentName}-{c.Slug}", Paper = PaperId, Command = command, Finished = DateTimeOffset.UtcNow,
                WallSeconds = Math.Round(clock.Elapsed.TotalSeconds, 1), Threads = get_num_threads(), Machine = ResultFile.DescribeMachine(),
                Seed = c.Seed, Config = c.ToJson(), Cells = [new ResultCell("miniimagenet", MetaLearnerMiniImageNetConfig.MethodName, c.Column, summary.Mean, summary.Ci95, c.EvalTasks, budgetText)],
                Details = details,
            };
            result.Save(ResultPath);
            return result;
        }
    }

    private static string ForCellIterations(int shots) => shots is 1 or 5 ? MetaLearnerMiniImageNetConfig.ForCell(shots).Iterations.ToString("N0") : "none";

    private static GateTrace Rounded(GateTrace g) =>
        g with { Input = g.Input.Select(r => r.Select(v => Math.Round(v, 6)).ToArray()).ToArray(), Forget = g.Forget.Select(r => r.Select(v => Math.Round(v, 6)).ToArray()).ToArray() };

    private (List<CurvePoint>, double) LoadCurve()
    {
        // The curve belongs to the checkpoint: without one, a fresh run starts a fresh curve.
        if (!File.Exists(CheckpointPath) || !File.Exists(CurvePath)) return ([], 0);
        var node = JsonNode.Parse(File.ReadAllText(CurvePath))!;
        return (node["points"].Deserialize<List<CurvePoint>>(ResultFile.Json) ?? [], node["eval_seconds"]!.GetValue<double>());
    }

    private void SaveCurve(List<CurvePoint> curve, double evalSeconds)
    {
        var node = new JsonObject
        {
            ["points"] = JsonSerializer.SerializeToNode(curve.OrderBy(p => p.Iteration).ToList(), ResultFile.Json),
            ["eval_seconds"] = Math.Round(evalSeconds, 3),
        };
        Directory.CreateDirectory(Path.GetDirectoryName(CurvePath)!);
        AtomicFile.WriteAllText(CurvePath, node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }
}
