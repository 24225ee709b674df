using System.Diagnostics;
using System.Text.Json.Nodes;
using MetaNotebooks.Algorithms.Metric;
using MetaNotebooks.Data;
using MetaNotebooks.Models;
using MetaNotebooks.Results;
using MetaNotebooks.Training;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Experiments;

/// <summary>How the zero-shot Fashion-MNIST experiment is trained and scored.</summary>
public sealed record ZeroShotFashionConfig
{
    /// <summary>Classes never seen in training (default Pullover, Dress, Sneaker; see <see cref="FashionMnistAttributes"/>).</summary>
    public int[] Unseen { get; init; } = FashionMnistAttributes.DefaultUnseen;
    public int Iterations { get; init; } = 2000;
    /// <summary>Seen classes per training episode (of the seven), each with <see cref="Queries"/> images.</summary>
    public int Ways { get; init; } = 5;
    public int Queries { get; init; } = 20;
    public double LearningRate { get; init; } = 1e-3;
    public long Seed { get; init; } = 1;
    /// <summary>Test episodes per setting; 15 queries per class, on the test images (never used in training).</summary>
    public int EvalEpisodes { get; init; } = 1000;
    public int EvalQueries { get; init; } = 15;
    public long EvalSeed { get; init; } = 20_170_315;
    public int CurveEvery { get; init; } = 50;
    public bool ShowProgress { get; init; } = true;

    public int[] Seen => Enumerable.Range(0, FashionMnist.ClassNames.Length).Except(Unseen).ToArray();

    public void Validate()
    {
        if (Unseen.Length < 2 || Unseen.Distinct().Count() != Unseen.Length || Unseen.Any(c => c < 0 || c >= FashionMnist.ClassNames.Length))
            throw new ArgumentException($"hold out at least two distinct classes of 0…9, got [{string.Join(", ", Unseen)}]");
        if (Ways < 2 || Ways > Seen.Length) throw new ArgumentException($"training episodes need 2…{Seen.Length} seen classes, got {Ways}");
        if (Iterations < 0 || Queries < 1 || EvalQueries < 1 || EvalEpisodes < 1) throw new ArgumentException("iterations ≥ 0, queries ≥ 1 and episodes ≥ 1");
        if (!(LearningRate > 0)) throw new ArgumentException($"learning rate must be positive, got {LearningRate}");
    }

    public JsonObject ToJson() => new()
    {
        ["unseen"] = new JsonArray(Unseen.Select(c => (JsonNode)FashionMnist.ClassNames[c]).ToArray()),
        ["iterations"] = Iterations, ["ways"] = Ways, ["queries"] = Queries, ["learning_rate"] = LearningRate, ["optimizer"] = "Adam",
        ["seed"] = Seed, ["eval_episodes"] = EvalEpisodes, ["eval_queries"] = EvalQueries, ["eval_seed"] = EvalSeed,
        ["attributes"] = new JsonArray(FashionMnistAttributes.Names.Select(n => (JsonNode)n).ToArray()),
    };
}

/// <summary>Per-episode accuracies of one evaluation: over all queries, and over the queries of unseen and of seen classes (empty when the episodes hold none).</summary>
public sealed record ZeroShotAccuracy(double[] All, double[] UnseenQueries, double[] SeenQueries);

/// <summary>
/// Zero-shot prototypical networks (Snell et al. 2017, §2.3) on Fashion-MNIST: f is the 4-block conv encoder (64-d), g
/// a linear map of the 12 hand-written class attributes (<see cref="FashionMnistAttributes"/>) to 64-d, normalised. f
/// and g are trained together on episodes of the seen classes (training images only); then scored on the test images
/// (1) zero-shot: N-way episodes over the held-out classes, whose prototypes come from their attributes alone, and (2)
/// generalised: 10-way episodes over every class, reported over all queries and separately over unseen- and
/// seen-class queries (a model biased towards the classes it trained on fails the unseen ones here).
/// </summary>
public sealed class ZeroShotFashion(ZeroShotFashionConfig config, string paperDirectory)
{
    public const string PaperId = "snell2017-prototypical";
    public const string ExperimentName = "protonet-zeroshot-fashion";
    public const string TableId = "zeroshot-fashion";
    public const string Method = "Zero-shot Prototypical Nets";

    public ZeroShotFashionConfig Config { get; } = config;
    /// <summary>
    /// Where the checkpoints go: by default the output folder's checkpoints/. The CLI keeps them in papers/ (so that the
    /// same command resumes a committed one) while the results are written to a scratch folder first.
    /// </summary>
    public string CheckpointDirectory { get; init; } = Path.Combine(paperDirectory, "checkpoints");
    public string CheckpointPath => Path.Combine(CheckpointDirectory, ExperimentName + ".mntd");
    public string ModelPath => Path.Combine(paperDirectory, "results", ExperimentName + ".model.mntd");
    public string ResultPath => Path.Combine(paperDirectory, "results", ExperimentName + ".json");

    public static ZeroShotPrototypicalNetwork NewLearner(long seed)
    {
        using var g = new Generator((ulong)seed);
        return new ZeroShotPrototypicalNetwork(new ConvEncoder(generator: g), new Mlp([FashionMnistAttributes.Count, 64], g));
    }

    /// <summary>The table columns: zero-shot over the unseen classes, and generalised (all ten) split by query kind.</summary>
    public static string ZeroShotColumn(int unseen) => $"{unseen}-way unseen";
    public const string GeneralisedAll = "10-way all queries";
    public const string GeneralisedUnseen = "10-way unseen queries";
    public const string GeneralisedSeen = "10-way seen queries";

    /// <summary>Adam on <see cref="ZeroShotPrototypicalNetwork.Loss"/> over seeded zero-shot episodes of `seenTrain` (whose class i is Fashion-MNIST class seenClasses[i]).</summary>
    public static TrainingOutcome Train(ZeroShotPrototypicalNetwork net, ClassIndexedDataset seenTrain, IReadOnlyList<int> seenClasses, ZeroShotFashionConfig config,
                                        string? checkpointPath, CancellationToken cancel = default)
    {
        config.Validate();
        if (seenTrain.ClassCount != seenClasses.Count) throw new ArgumentException($"{seenTrain.Name} has {seenTrain.ClassCount} classes for {seenClasses.Count} class ids");
        net.train();
        using var optimizer = new optim.Adam(net.parameters(), config.LearningRate);
        var loop = new TrainingLoop(ExperimentName, net, optimizer, config.Iterations, checkpointPath) { ShowProgress = config.ShowProgress, CurveEvery = config.CurveEvery };
        return loop.Run(i =>
        {
            using var sampler = new EpisodeSampler(seenTrain, config.Ways, shots: 0, config.Queries, EpisodeTrainer.StepSeed(config.Seed, i));
            using var batch = sampler.Sample(1, out var classes);
            return net.Loss(batch.QueryInputs, batch.QueryTargets, Attributes(classes, seenClasses));
        }, cancel);
    }

    /// <summary>
    /// Accuracy on fixed episodes over `classes` (Fashion-MNIST ids; `test` is the ten-class test set): every episode holds
    /// all of them, `queries` test images each, labels in random order. Test images are embedded once (eval mode).
    /// </summary>
    public static ZeroShotAccuracy Evaluate(ZeroShotPrototypicalNetwork net, ClassIndexedDataset test, IReadOnlyList<int> classes, IReadOnlyCollection<int> unseen,
                                            int queries, int episodes, long seed, int chunk = 50)
    {
        var wasTraining = net.training;
        net.eval();
        try
        {
            using var _ = no_grad();
            using var subset = test.Subset(classes);
            using var embedded = EpisodeTrainer.EmbedAll(x => { var z = net.EmbedImages(x); using (z) return z.reshape(z.size(0), -1, 1, 1); }, subset);
            using var sampler = new EpisodeSampler(embedded, classes.Count, shots: 0, queries, unchecked((ulong)seed + (ulong)classes.Count));
            var (all, unseenAcc, seenAcc) = (new List<double>(), new List<double>(), new List<double>());
            while (all.Count < episodes)
            {
                using var scope = NewDisposeScope();
                var n = Math.Min(chunk, episodes - all.Count);
                using var batch = sampler.Sample(n, out var drawn);
                var scores = PrototypicalNetwork.NegativeSquaredDistances(batch.QueryInputs.flatten(2), net.Prototypes(Attributes(drawn, classes)));
                var correct = scores.argmax(2).eq(batch.QueryTargets).to(ScalarType.Float64).ToArray<double>();
                var labels = batch.QueryTargets.ToArray<long>();
                var m = (int)batch.QueryTargets.size(1);
                for (var t = 0; t < n; t++)
                {
                    var isUnseen = Enumerable.Range(0, m).Select(q => unseen.Contains(classes[drawn[t, (int)labels[t * m + q]]])).ToArray();
                    all.Add(Enumerable.Range(0, m).Average(q => correct[t * m + q]));
                    if (isUnseen.Any(u => u)) unseenAcc.Add(Enumerable.Range(0, m).Where(q => isUnseen[q]).Average(q => correct[t * m + q]));
                    if (isUnseen.Any(u => !u)) seenAcc.Add(Enumerable.Range(0, m).Where(q => !isUnseen[q]).Average(q => correct[t * m + q]));
                }
            }
            return new ZeroShotAccuracy(all.ToArray(), unseenAcc.ToArray(), seenAcc.ToArray());
        }
        finally
        {
            net.train(wasTraining);
        }
    }

    /// <summary>Class attributes [tasks, N, A] of episodes whose label i in task t is dataset class drawn[t, i], the dataset's classes being `classIds`.</summary>
    public static Tensor Attributes(int[,] drawn, IReadOnlyList<int> classIds)
    {
        var (tasks, ways) = (drawn.GetLength(0), drawn.GetLength(1));
        var ids = new int[tasks * ways];
        for (var t = 0; t < tasks; t++)
            for (var i = 0; i < ways; i++) ids[t * ways + i] = classIds[drawn[t, i]];
        using var a = FashionMnistAttributes.Of(ids);
        return a.view(tasks, ways, FashionMnistAttributes.Count);
    }

    public ResultFile? Run(ClassIndexedDataset train, ClassIndexedDataset test, string command, CancellationToken cancel = default, TextWriter? log = null)
    {
        log ??= Console.Error;
        Config.Validate();
        var clock = Stopwatch.StartNew();
        var seen = Config.Seen;
        using var seenTrain = train.Subset(seen, "Fashion-MNIST train, seen classes");
        log.WriteLine($"{seenTrain}; held out: {string.Join(", ", Config.Unseen.Select(c => FashionMnist.ClassNames[c]))}");
        using var net = NewLearner(Config.Seed);
        var outcome = Train(net, seenTrain, seen, Config, CheckpointPath, cancel);
        if (cancel.IsCancellationRequested && !outcome.Completed) return null;
        save(net.state_dict(), ModelPath);

        var budget = $"{outcome.Iterations:N0}{(outcome.Iterations < Config.Iterations ? $" of {Config.Iterations:N0} planned" : "")} episodes " +
                     $"({outcome.Seconds:0} s on {get_num_threads()} thread(s)) of {Config.Ways}-way {Config.Queries}-query over the {seen.Length} seen classes, " +
                     $"Adam {Config.LearningRate:g3} (paper: CUB-200, 50 unseen classes, GoogLeNet features and 312 attributes)";
        var zeroShot = Evaluate(net, test, Config.Unseen, Config.Unseen, Config.EvalQueries, Config.EvalEpisodes, Config.EvalSeed);
        var generalised = Evaluate(net, test, Enumerable.Range(0, FashionMnist.ClassNames.Length).ToArray(), Config.Unseen, Config.EvalQueries, Config.EvalEpisodes, Config.EvalSeed);
        var columns = new (string Column, double[] Values)[]
        {
            (ZeroShotColumn(Config.Unseen.Length), zeroShot.All),
            (GeneralisedAll, generalised.All),
            (GeneralisedUnseen, generalised.UnseenQueries),
            (GeneralisedSeen, generalised.SeenQueries),
        };
        var cells = new List<ResultCell>();
        var perEpisode = new JsonObject();
        foreach (var (column, values) in columns)
        {
            var s = EpisodeTrainer.Percent(values);
            log.WriteLine($"{Method} {column}: {s.Mean:0.00} ± {s.Ci95:0.00}% over {s.Count} episodes");
            cells.Add(new ResultCell(TableId, Method, column, s.Mean, s.Ci95, s.Count, budget));
            perEpisode[column] = new JsonArray(values.Select(a => (JsonNode)Math.Round(a, 4)).ToArray());
        }
        var result = new ResultFile
        {
            Experiment = ExperimentName, Paper = PaperId, Command = command, Finished = DateTimeOffset.UtcNow,
            WallSeconds = Math.Round(clock.Elapsed.TotalSeconds, 1), Threads = get_num_threads(), Machine = ResultFile.DescribeMachine(),
            Seed = Config.Seed, Config = Config.ToJson(), Cells = cells,
            Details = new JsonObject
            {
                ["iterations"] = outcome.Iterations,
                ["completed"] = outcome.Completed,
                ["train_seconds"] = Math.Round(outcome.Seconds, 1),
                ["loss_curve_every"] = outcome.CurveEvery,
                ["loss_curve"] = new JsonArray(outcome.LossCurve.Select(v => (JsonNode)Math.Round(v, 5)).ToArray()),
                ["per_episode_accuracy"] = perEpisode,
            },
        };
        result.Save(ResultPath);
        return result;
    }
}
