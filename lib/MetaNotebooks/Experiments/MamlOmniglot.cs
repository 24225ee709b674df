using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using MetaNotebooks.Algorithms;
using MetaNotebooks.Data;
using MetaNotebooks.Models;
using MetaNotebooks.Results;
using MetaNotebooks.Tasks;
using MetaNotebooks.Training;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Experiments;

/// <summary>
/// Settings of the Omniglot reproduction (Finn et al. 2017, appendix A.1; code cbfinn/maml main.py). Use
/// <see cref="ForCell"/> for the paper's settings of an N-way K-shot cell.
/// </summary>
public sealed record MamlOmniglotConfig
{
    public int Ways { get; init; } = 5;
    public int Shots { get; init; } = 1;
    /// <summary>Query images per class. The paper's code draws 2K images per class for Omniglot (K support, K query).</summary>
    public int Queries { get; init; } = 1;
    public bool FirstOrder { get; init; }
    /// <summary>The code's Omniglot commands use 40,000 (the paper says 60,000).</summary>
    public int Iterations { get; init; } = 40_000;
    public int MetaBatch { get; init; } = 32;
    public int InnerSteps { get; init; } = 1;
    public double InnerLearningRate { get; init; } = 0.4;
    public double MetaLearningRate { get; init; } = 1e-3;
    public long Seed { get; init; } = 1;
    /// <summary>
    /// The whole meta-batch in one graph (grouped convolutions) or one task after another; same gradients. The loop is
    /// the default. Which is faster depends on the sizes and threads (libtorch 1.13's CPU grouped convolution is slower per
    /// task than separate convolutions, but its bigger kernels use threads better): with 15 queries per class the batched
    /// meta-iteration is 1.1× the loop on one thread and 1.2–1.35× on two; with 20-way 5-shot tasks on one thread it is
    /// slower (14.0 vs 12.6 s/iteration). Chapter 7 §7.5 has the measurements.
    /// </summary>
    public bool Batched { get; init; }
    /// <summary>Wall-clock limit of this invocation (null: none). The run checkpoints, evaluates and stops; the next one resumes.</summary>
    public double? Hours { get; init; }
    public int EvalTasks { get; init; } = 600;
    /// <summary>SGD steps at test, with the inner step size α (the paper: 3 for 5-way).</summary>
    public int EvalSteps { get; init; } = 3;
    public long EvalSeed { get; init; } = 20170309;
    /// <summary>Test accuracy is measured every this many iterations (on <see cref="CurveTasks"/> tasks) for the training curve.</summary>
    public int EvalEvery { get; init; } = 500;
    public int CurveTasks { get; init; } = 200;
    /// <summary>Tasks per evaluation chunk (bounds the grouped convolution's width).</summary>
    public int EvalChunk { get; init; } = 50;
    /// <summary>MAML's character split is a seeded permutation (<see cref="Omniglot.Maml"/>).</summary>
    public ulong SplitSeed { get; init; } = 1;

    /// <summary>The paper's settings: 5-way 1 inner step α = 0.4, meta-batch 32, 3 test steps; 20-way 5 steps α = 0.1, meta-batch 16, 5 test steps.</summary>
    public static MamlOmniglotConfig ForCell(int ways, int shots, bool firstOrder) => ways == 20
        ? new() { Ways = 20, Shots = shots, Queries = shots, FirstOrder = firstOrder, MetaBatch = 16, InnerSteps = 5, InnerLearningRate = 0.1, EvalSteps = 5 }
        : new() { Ways = ways, Shots = shots, Queries = shots, FirstOrder = firstOrder };

    public string Slug => $"{Ways}w{Shots}s{(FirstOrder ? "-fo" : "")}";
    public string MethodName => FirstOrder ? "first-order MAML" : "MAML";
    public string Column => $"{Ways}-way {Shots}-shot";

    public void Validate()
    {
        if (Ways < 2 || Shots < 1 || Queries < 1) throw new ArgumentException($"need ways ≥ 2, shots ≥ 1, queries ≥ 1; got {Ways}, {Shots}, {Queries}");
        if (Shots + Queries > Omniglot.DrawingsPerCharacter) throw new ArgumentException($"shots + queries must be ≤ {Omniglot.DrawingsPerCharacter} (drawings per character)");
        if (Iterations < 0 || MetaBatch < 1 || InnerSteps < 0 || EvalSteps < 0) throw new ArgumentException("iterations ≥ 0, meta-batch ≥ 1, inner and test steps ≥ 0");
        if (EvalTasks < 2 || CurveTasks < 2 || EvalEvery < 1 || EvalChunk < 1) throw new ArgumentException("evaluation needs ≥ 2 tasks, eval-every ≥ 1, chunk ≥ 1");
        if (!(InnerLearningRate >= 0) || !(MetaLearningRate > 0)) throw new ArgumentException("learning rates must be finite: α ≥ 0, meta learning rate > 0");
        if (Hours is { } h && !(h > 0)) throw new ArgumentException($"--hours must be positive, got {h}");
    }

    public JsonObject ToJson() => (JsonObject)JsonSerializer.SerializeToNode(this, ResultFile.Json)!;
}

/// <summary>One point of the training curve: test accuracy (%) after `steps` fine-tuning steps, at an iteration.</summary>
public sealed record CurvePoint(int Iteration, int Tasks, double[] Mean, double[] Ci95);

/// <summary>
/// Finn et al. (2017) Table 1, Omniglot: meta-train MAML (or first-order MAML) on MAML's character split with a random
/// 90° rotation per class per task, then fine-tune on 600 test tasks and report the query accuracy after 0…S steps
/// (mean ± 95% CI). Resumable: training checkpoints every few minutes; the accuracy curve is kept beside the checkpoint.
/// </summary>
public sealed class MamlOmniglot(MamlOmniglotConfig config, string outputDirectory, Omniglot omniglot)
{
    public const string PaperId = "finn2017-maml";
    public const string ExperimentName = "maml-omniglot";
    public MamlOmniglotConfig Config { get; } = config;

    /// <summary>
    /// Where the checkpoints go: by default the output folder's checkpoints/. The CLI keeps them in papers/ (so that the
    /// same command resumes a committed one) while the results are written to a scratch folder first.
    /// </summary>
    public string CheckpointDirectory { get; init; } = Path.Combine(outputDirectory, "checkpoints");
    public string CheckpointPath => Path.Combine(CheckpointDirectory, $"{ExperimentName}-{Config.Slug}.mntd");
    public string CurvePath => Path.Combine(CheckpointDirectory, $"{ExperimentName}-{Config.Slug}.curve.json");
    public string ModelPath => Path.Combine(outputDirectory, "results", $"{ExperimentName}-{Config.Slug}.model.mntd");
    public string ResultPath => Path.Combine(outputDirectory, "results", $"{ExperimentName}-{Config.Slug}.json");

    public OmniglotConvNet NewModel()
    {
        using var g = new Generator((ulong)Config.Seed);
        return new OmniglotConvNet(Config.Ways, g);
    }

    public Algorithms.Maml NewMaml(OmniglotConvNet model) => new(model, TaskLosses.CrossEntropy, new MamlOptions
    {
        InnerSteps = Config.InnerSteps, InnerLearningRate = Config.InnerLearningRate, FirstOrder = Config.FirstOrder,
    });

    /// <summary>Trains (resuming from the checkpoint), measuring test accuracy every EvalEvery iterations. The model stays loaded.</summary>
    public (OmniglotConvNet Model, TrainingOutcome Outcome, List<CurvePoint> Curve, double EvalSeconds) Train(CancellationToken cancel = default, bool showProgress = true)
    {
        Config.Validate();
        var model = NewModel();
        using var optimizer = new optim.Adam(model.parameters(), Config.MetaLearningRate);
        var maml = NewMaml(model);
        using var train = omniglot.Maml("train", Config.SplitSeed);
        using var test = omniglot.Maml("test", Config.SplitSeed);
        var (curve, evalSeconds) = LoadCurve();
        var loop = new TrainingLoop($"{Config.MethodName} {Config.Slug}", model, optimizer, Config.Iterations, CheckpointPath)
        {
            ShowProgress = showProgress, CurveEvery = 50,
            Settings = $"{Config.MethodName}; {Config.Column} {Config.Queries}-query; meta-batch {Config.MetaBatch}; {Config.InnerSteps} inner step(s) of {Config.InnerLearningRate:g6}; " +
                       $"meta learning rate {Config.MetaLearningRate:g6}; split seed {Config.SplitSeed}; seed {Config.Seed}",
        };
        var outcome = loop.Run(i =>
        {
            if (i % Config.EvalEvery == 0 && curve.All(p => p.Iteration != i))
            {
                var clock = Stopwatch.StartNew();
                curve.Add(CurvePointAt(model, test, i, Config.CurveTasks));
                evalSeconds += clock.Elapsed.TotalSeconds;
                SaveCurve(curve, evalSeconds);
            }
            using var sampler = new EpisodeSampler(train, Config.Ways, Config.Shots, Config.Queries, (ulong)(Config.Seed * 1_000_003 + i), EpisodeAugmentations.RandomRotationPerClass);
            using var batch = sampler.Sample(Config.MetaBatch);
            return Config.Batched ? maml.MetaLossBatched(batch) : maml.MetaLoss(batch);
        }, cancel);
        return (model, outcome, curve.OrderBy(p => p.Iteration).ToList(), evalSeconds);
    }

    private CurvePoint CurvePointAt(nn.Module model, ClassIndexedDataset test, int iteration, int tasks)
    {
        var perStep = Evaluate(model, test, tasks);
        var s = perStep.Select(Summary.Of).ToArray();
        return new CurvePoint(iteration, tasks, s.Select(x => Math.Round(x.Mean, 3)).ToArray(), s.Select(x => Math.Round(x.Ci95, 3)).ToArray());
    }

    /// <summary>
    /// Query accuracy (%) of each of `tasks` test tasks (fixed seed: always the same tasks) after 0…EvalSteps SGD steps
    /// of size α on its support set: [steps + 1][tasks]. Batch norm uses each set's own statistics, as in training.
    /// </summary>
    public double[][] Evaluate(nn.Module model, ClassIndexedDataset test, int tasks)
    {
        using var sampler = new EpisodeSampler(test, Config.Ways, Config.Shots, Config.Queries, (ulong)Config.EvalSeed, EpisodeAugmentations.RandomRotationPerClass);
        var perStep = Enumerable.Range(0, Config.EvalSteps + 1).Select(_ => new List<double>(tasks)).ToArray();
        for (var done = 0; done < tasks; done += Config.EvalChunk)
        {
            using var scope = NewDisposeScope();
            using var batch = sampler.Sample(Math.Min(Config.EvalChunk, tasks - done));
            using var accuracy = Algorithms.Maml.FineTuneCurve(model, TaskLosses.CrossEntropy, batch, Config.EvalSteps, Config.InnerLearningRate, TaskMetrics.Accuracy);
            var values = accuracy.ToArray<double>();
            var n = batch.Count;
            for (var s = 0; s <= Config.EvalSteps; s++) perStep[s].AddRange(values.AsSpan(s * n, n).ToArray().Select(v => 100 * v));
        }
        return perStep.Select(l => l.ToArray()).ToArray();
    }

    /// <summary>Evaluation on the test split with an already trained model (e.g. loaded from <see cref="ModelPath"/>).</summary>
    public double[][] EvaluateOnTest(nn.Module model, int? tasks = null)
    {
        using var test = omniglot.Maml("test", Config.SplitSeed);
        return Evaluate(model, test, tasks ?? Config.EvalTasks);
    }

    /// <summary>
    /// Trains within the budget, evaluates on 600 test tasks and writes the result file. Returns null when cancelled by
    /// the user (Ctrl-C: the checkpoint is kept); a run stopped by --hours is evaluated and reported with the iterations reached.
    /// </summary>
    public ResultFile? Run(string command, CancellationToken cancel = default, bool showProgress = true)
    {
        var clock = Stopwatch.StartNew();
        using var budget = new TimeBudget(Config.Hours, cancel);
        var (model, outcome, curve, evalSeconds) = Train(budget.Token, showProgress);
        using (model)
        {
            if (cancel.IsCancellationRequested) return null;
            // Saved only for a run that is reported (finished or stopped by its budget): an interrupted model lives in
            // its checkpoint, and saving it would put it beside a result file that describes another run.
            save(model.state_dict(), ModelPath);
            var evalClock = Stopwatch.StartNew();
            var perStep = EvaluateOnTest(model);
            var evalFinalSeconds = evalClock.Elapsed.TotalSeconds;
            var summaries = perStep.Select(Summary.Of).ToArray();
            var final = new CurvePoint(outcome.Iterations, Config.EvalTasks, summaries.Select(s => Math.Round(s.Mean, 3)).ToArray(), summaries.Select(s => Math.Round(s.Ci95, 3)).ToArray());
            var trainSeconds = outcome.Seconds - evalSeconds;
            var secondsPerIteration = outcome.Iterations > 0 ? trainSeconds / outcome.Iterations : double.NaN;
            var budgetText = $"{outcome.Iterations:N0} of {Config.Iterations:N0} meta-iterations (paper: 40,000–60,000), " +
                             $"{trainSeconds / 3600:0.00} h training on {get_num_threads()} thread(s), {secondsPerIteration:0.00} s/iteration";
            var cells = new List<ResultCell>
            {
                new("omniglot", Config.MethodName, Config.Column, summaries[^1].Mean, summaries[^1].Ci95, Config.EvalTasks, budgetText),
            };
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
                ["per_task_final"] = new JsonArray(perStep[^1].Select(v => (JsonNode)Math.Round(v, 3)).ToArray()),
            };
            var result = new ResultFile
            {
                Experiment = $"{ExperimentName}-{Config.Slug}", Paper = PaperId, Command = command, Finished = DateTimeOffset.UtcNow,
                WallSeconds = Math.Round(clock.Elapsed.TotalSeconds, 1), Threads = get_num_threads(), Machine = ResultFile.DescribeMachine(),
                Seed = Config.Seed, Config = Config.ToJson(), Cells = cells, Details = details,
            };
            result.Save(ResultPath);
            return result;
        }
    }

    private (List<CurvePoint>, double) LoadCurve()
    {
        // The curve belongs to the checkpoint: without one, a fresh run starts a fresh curve.
        if (!File.Exists(CheckpointPath) || !File.Exists(CurvePath)) return (new List<CurvePoint>(), 0);
        var node = JsonNode.Parse(File.ReadAllText(CurvePath))!;
        var points = node["points"].Deserialize<List<CurvePoint>>(ResultFile.Json) ?? new List<CurvePoint>();
        return (points, node["eval_seconds"]!.GetValue<double>());
    }

    private void SaveCurve(List<CurvePoint> curve, double evalSeconds)
    {
        var node = new JsonObject
        {
            ["points"] = JsonSerializer.SerializeToNode(curve.OrderBy(p => p.Iteration).ToList(), ResultFile.Json),
            ["eval_seconds"] = evalSeconds,
        };
        Directory.CreateDirectory(Path.GetDirectoryName(CurvePath)!);
        AtomicFile.WriteAllText(CurvePath, node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }
}
