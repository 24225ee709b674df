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
/// Settings of a MAML few-shot classification reproduction (Finn et al. 2017, Table 1) that do not depend on the dataset.
/// <see cref="MamlOmniglotConfig"/> and <see cref="MamlMiniImageNetConfig"/> add the dataset's own and the paper's values.
/// </summary>
public abstract record MamlFewShotConfig
{
    public int Ways { get; init; } = 5;
    public int Shots { get; init; } = 1;
    /// <summary>Query images per class.</summary>
    public int Queries { get; init; } = 1;
    public bool FirstOrder { get; init; }
    public int Iterations { get; init; } = 40_000;
    public int MetaBatch { get; init; } = 32;
    public int InnerSteps { get; init; } = 1;
    public double InnerLearningRate { get; init; } = 0.4;
    public double MetaLearningRate { get; init; } = 1e-3;
    /// <summary>Each meta-gradient element clipped to ±this before Adam's step (the paper's code on Mini-ImageNet: 10); null: no clipping.</summary>
    public double? ClipValue { get; init; }
    /// <summary>Convolution filters per block (the paper: 64 on Omniglot, 32 on Mini-ImageNet).</summary>
    public int Filters { get; init; } = 64;
    public long Seed { get; init; } = 1;
    /// <summary>
    /// The whole meta-batch in one graph (grouped convolutions) or one task after another; same gradients. The loop is
    /// the default. Which is faster depends on the sizes and threads (libtorch 1.13's CPU grouped convolution is slower per
    /// task than separate convolutions, but its bigger kernels use threads better): on Omniglot with 15 queries per class the
    /// batched meta-iteration is 1.1× the loop on one thread and 1.2–1.35× on two; with 20-way 5-shot tasks on one thread it
    /// is slower (14.0 vs 12.6 s/iteration). Chapter 7 §7.5 has the measurements.
    /// </summary>
    public bool Batched { get; init; }
    /// <summary>Wall-clock limit of this invocation (null: none). The run checkpoints, evaluates and stops; the next one resumes.</summary>
    public double? Hours { get; init; }
    public int EvalTasks { get; init; } = 600;
    /// <summary>SGD steps at test, with the inner step size α.</summary>
    public int EvalSteps { get; init; } = 3;
    /// <summary>Test accuracy is measured every this many iterations (on the first <see cref="CurveTasks"/> test tasks) for the training curve.</summary>
    public int EvalEvery { get; init; } = 500;
    public int CurveTasks { get; init; } = 200;
    /// <summary>Tasks per evaluation chunk (bounds the grouped convolution's width and memory).</summary>
    public int EvalChunk { get; init; } = 50;
    /// <summary>
    /// The fine-tuning steps after which the test query accuracy is measured (null: every step 0…EvalSteps). Scoring the
    /// query set is most of an evaluation's cost when it is much larger than the support set.
    /// </summary>
    public int[]? ScoredSteps { get; init; }

    /// <summary>The steps the evaluation reports, in order: <see cref="ScoredSteps"/> or 0…EvalSteps.</summary>
    public int[] StepsReported() => ScoredSteps ?? Enumerable.Range(0, EvalSteps + 1).ToArray();

    public abstract string Slug { get; }
    public string MethodName => FirstOrder ? "first-order MAML" : "MAML";
    /// <summary>The column of the paper's table this cell fills.</summary>
    public abstract string Column { get; }

    public virtual void Validate()
    {
        if (Ways < 2 || Shots < 1 || Queries < 1) throw new ArgumentException($"need ways ≥ 2, shots ≥ 1, queries ≥ 1; got {Ways}, {Shots}, {Queries}");
        if (Iterations < 0 || MetaBatch < 1 || InnerSteps < 0 || EvalSteps < 0) throw new ArgumentException("iterations ≥ 0, meta-batch ≥ 1, inner and test steps ≥ 0");
        if (EvalTasks < 2 || CurveTasks < 2 || EvalEvery < 1 || EvalChunk < 1) throw new ArgumentException("evaluation needs ≥ 2 tasks, eval-every ≥ 1, chunk ≥ 1");
        if (!(InnerLearningRate >= 0) || !(MetaLearningRate > 0)) throw new ArgumentException("learning rates must be finite: α ≥ 0, meta learning rate > 0");
        if (ClipValue is { } c && !(c > 0)) throw new ArgumentException($"the gradient clip must be positive, got {c}");
        if (Filters < 1) throw new ArgumentException($"filters must be ≥ 1, got {Filters}");
        if (Hours is { } h && !(h > 0)) throw new ArgumentException($"--hours must be positive, got {h}");
        if (ScoredSteps is { } steps && (steps.Length == 0 || steps[^1] != EvalSteps || steps.Any(s => s < 0) || !steps.SequenceEqual(steps.Distinct().Order())))
            throw new ArgumentException($"scored steps must be increasing, ≥ 0 and end with the test steps ({EvalSteps}), got [{string.Join(", ", steps)}]");
    }

    public JsonObject ToJson() => (JsonObject)JsonSerializer.SerializeToNode(this, GetType(), ResultFile.Json)!;
}

/// <summary>
/// One point of the training curve: test accuracy (%) at an iteration, Mean[j] after Steps[j] fine-tuning steps (Steps null:
/// after j steps, every step scored). The last entry is after all the test steps.
/// </summary>
public sealed record CurvePoint(int Iteration, int Tasks, double[] Mean, double[] Ci95, int[]? Steps = null);

/// <summary>
/// MAML (or first-order MAML) on N-way K-shot classification episodes of some dataset: meta-train within a budget
/// (resumable: checkpoints every few minutes; the accuracy curve on fixed test tasks is kept beside the checkpoint),
/// then fine-tune on the fixed test tasks and report the query accuracy after 0…S steps (mean ± 95% CI). A dataset's
/// experiment says which network, which episodes (training and test) and which table; the rest is here.
/// </summary>
public abstract class MamlFewShot(MamlFewShotConfig settings, string outputDirectory)
{
    public const string PaperId = "finn2017-maml";
    public MamlFewShotConfig Settings { get; } = settings;

    /// <summary>The experiment's name (`mn reproduce` name), the prefix of its files.</summary>
    public abstract string Experiment { get; }
    /// <summary>The id of the published table the cell belongs to.</summary>
    protected abstract string TableId { get; }
    /// <summary>How many iterations the paper trained (for the budget text).</summary>
    protected abstract string PaperIterations { get; }

    /// <summary>
    /// Where the checkpoints go: by default the output folder's checkpoints/. The CLI keeps them in papers/ (so that the
    /// same command resumes a committed one) while the results are written to a scratch folder first.
    /// </summary>
    public string CheckpointDirectory { get; init; } = Path.Combine(outputDirectory, "checkpoints");
    public string CheckpointPath => Path.Combine(CheckpointDirectory, $"{Experiment}-{Settings.Slug}.mntd");
    public string CurvePath => Path.Combine(CheckpointDirectory, $"{Experiment}-{Settings.Slug}.curve.json");
    public string ModelPath => Path.Combine(outputDirectory, "results", $"{Experiment}-{Settings.Slug}.model.mntd");
    public string ResultPath => Path.Combine(outputDirectory, "results", $"{Experiment}-{Settings.Slug}.json");

    public abstract MamlConvNet NewModel();
    /// <summary>The training or test split as a class-indexed dataset (the caller disposes it).</summary>
    protected abstract ClassIndexedDataset Split(string split);
    /// <summary>The sampler of training iteration i's meta-batch: seeded by the run's seed and i, so a resumed run sees the same tasks.</summary>
    protected abstract EpisodeSampler TrainingEpisodes(ClassIndexedDataset train, int iteration);
    /// <summary>The sampler of the fixed test tasks: always the same tasks, in the same order (the curve uses a prefix).</summary>
    protected abstract EpisodeSampler TestEpisodes(ClassIndexedDataset test);

    public Algorithms.Maml NewMaml(MamlConvNet model) => new(model, TaskLosses.CrossEntropy, new MamlOptions
    {
        InnerSteps = Settings.InnerSteps, InnerLearningRate = Settings.InnerLearningRate, FirstOrder = Settings.FirstOrder,
    });

    /// <summary>Trains (resuming from the checkpoint), measuring test accuracy every EvalEvery iterations. The model stays loaded.</summary>
    public (MamlConvNet Model, TrainingOutcome Outcome, List<CurvePoint> Curve, double EvalSeconds) Train(CancellationToken cancel = default, bool showProgress = true)
    {
        var c = Settings;
        c.Validate();
        var model = NewModel();
        using var optimizer = new optim.Adam(model.parameters(), c.MetaLearningRate);
        var maml = NewMaml(model);
        using var train = Split("train");
        using var test = Split("test");
        var (curve, evalSeconds) = LoadCurve();
        var parameters = model.parameters();
        var loop = new TrainingLoop($"{c.MethodName} {c.Slug}", model, optimizer, c.Iterations, CheckpointPath)
        {
            ShowProgress = showProgress, CurveEvery = 50,
            BeforeStep = c.ClipValue is { } clip ? () => ClipGradValue(parameters, clip) : null,
            Settings = CheckpointSettings,
        };
        var outcome = loop.Run(i =>
        {
            if (i % c.EvalEvery == 0 && curve.All(p => p.Iteration != i))
            {
                var clock = Stopwatch.StartNew();
                curve.Add(CurvePointAt(model, test, i, c.CurveTasks));
                evalSeconds += clock.Elapsed.TotalSeconds;
                SaveCurve(curve, evalSeconds);
            }
            using var sampler = TrainingEpisodes(train, i);
            using var batch = sampler.Sample(c.MetaBatch);
            return c.Batched ? maml.MetaLossBatched(batch) : maml.MetaLoss(batch);
        }, cancel);
        return (model, outcome, curve.OrderBy(p => p.Iteration).ToList(), evalSeconds);
    }

    /// <summary>
    /// The settings line stored in the checkpoint and compared on resume (a checkpoint of other settings is refused): what
    /// changes the training. An experiment may keep an older wording so that its committed checkpoints still resume.
    /// </summary>
    protected virtual string CheckpointSettings
    {
        get
        {
            var c = Settings;
            return $"{c.MethodName}; {Experiment} {c.Ways}-way {c.Shots}-shot {c.Queries}-query; meta-batch {c.MetaBatch}; {c.InnerSteps} inner step(s) of {c.InnerLearningRate:g6}; " +
                   $"meta learning rate {c.MetaLearningRate:g6}; {c.Filters} filters; clip {c.ClipValue?.ToString("g6") ?? "none"}; seed {c.Seed}";
        }
    }

    /// <summary>Clips every gradient element to [−clip, clip] (tf.clip_by_value in the paper's code; torch.nn.utils.clip_grad_value_).</summary>
    public static void ClipGradValue(IReadOnlyList<Tensor> parameters, double clip)
    {
        using var _ = no_grad();
        foreach (var p in parameters) p.grad?.clamp_(-clip, clip);
    }

    private CurvePoint CurvePointAt(nn.Module model, ClassIndexedDataset test, int iteration, int tasks)
    {
        var s = Evaluate(model, test, tasks).Select(Summary.Of).ToArray();
        return new CurvePoint(iteration, tasks, s.Select(x => Math.Round(x.Mean, 3)).ToArray(), s.Select(x => Math.Round(x.Ci95, 3)).ToArray(), Settings.ScoredSteps);
    }

    /// <summary>
    /// Query accuracy (%) of each of the first `tasks` fixed test tasks after each of <see cref="MamlFewShotConfig.StepsReported"/>
    /// SGD steps of size α on its support set: [steps reported][tasks]. Batch norm uses each set's own statistics, as in training.
    /// </summary>
    public double[][] Evaluate(nn.Module model, ClassIndexedDataset test, int tasks)
    {
        using var sampler = TestEpisodes(test);
        var c = Settings;
        var reported = c.StepsReported().Length;
        var perStep = Enumerable.Range(0, reported).Select(_ => new List<double>(tasks)).ToArray();
        for (var done = 0; done < tasks; done += c.EvalChunk)
        {
            using var scope = NewDisposeScope();
            using var batch = sampler.Sample(Math.Min(c.EvalChunk, tasks - done));
            using var accuracy = Algorithms.Maml.FineTuneCurve(model, TaskLosses.CrossEntropy, batch, c.EvalSteps, c.InnerLearningRate, TaskMetrics.Accuracy, c.ScoredSteps);
            var values = accuracy.ToArray<double>();
            var n = batch.Count;
            for (var s = 0; s < reported; s++) perStep[s].AddRange(values.AsSpan(s * n, n).ToArray().Select(v => 100 * v));
        }
        return perStep.Select(l => l.ToArray()).ToArray();
    }

    /// <summary>Evaluation on the test split with an already trained model (e.g. loaded from <see cref="ModelPath"/>).</summary>
    public double[][] EvaluateOnTest(nn.Module model, int? tasks = null)
    {
        using var test = Split("test");
        return Evaluate(model, test, tasks ?? Settings.EvalTasks);
    }

    /// <summary>
    /// Trains within the budget, evaluates on the fixed test tasks and writes the result file. Returns null when cancelled
    /// by the user (Ctrl-C: the checkpoint is kept); a run stopped by --hours is evaluated and reported with the iterations reached.
    /// </summary>
    public ResultFile? Run(string command, CancellationToken cancel = default, bool showProgress = true)
    {
        var c = Settings;
        var clock = Stopwatch.StartNew();
        using var budget = new TimeBudget(c.Hours, cancel);
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
            var final = new CurvePoint(outcome.Iterations, c.EvalTasks, summaries.Select(s => Math.Round(s.Mean, 3)).ToArray(), summaries.Select(s => Math.Round(s.Ci95, 3)).ToArray(), c.ScoredSteps);
            var trainSeconds = outcome.Seconds - evalSeconds;
            var secondsPerIteration = outcome.Iterations > 0 ? trainSeconds / outcome.Iterations : double.NaN;
            var budgetText = $"{outcome.Iterations:N0} of {c.Iterations:N0} meta-iterations (paper: {PaperIterations}), " +
                             $"{trainSeconds / 3600:0.00} h training on {get_num_threads()} thread(s), {secondsPerIteration:0.00} s/iteration";
            var cells = new List<ResultCell>
            {
                new(TableId, c.MethodName, c.Column, summaries[^1].Mean, summaries[^1].Ci95, c.EvalTasks, budgetText),
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
                Experiment = $"{Experiment}-{c.Slug}", Paper = PaperId, Command = command, Finished = DateTimeOffset.UtcNow,
                WallSeconds = Math.Round(clock.Elapsed.TotalSeconds, 1), Threads = get_num_threads(), Machine = ResultFile.DescribeMachine(),
                Seed = c.Seed, Config = c.ToJson(), Cells = cells, Details = details,
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
