using MetaNotebooks.Algorithms.Metric;
using MetaNotebooks.Data;
using MetaNotebooks.Results;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Training;

/// <summary>How a metric learner is trained: episode shape, optimiser, schedule, seed.</summary>
public sealed record EpisodeTrainingOptions
{
    public int Iterations { get; init; } = 10_000;
    public int Ways { get; init; } = 60;
    public int Shots { get; init; } = 5;
    public int Queries { get; init; } = 5;
    /// <summary>Episodes per optimiser step (their losses are averaged). The metric papers use one.</summary>
    public int TasksPerStep { get; init; } = 1;
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>The learning rate halves every this many steps (ProtoNet: every 20 epochs of 100 episodes); 0: never.</summary>
    public int HalveEvery { get; init; } = 2000;
    /// <summary>Gradient-norm clip before each step (Relation networks: 0.5); 0: none.</summary>
    public double ClipGradNorm { get; init; }
    public long Seed { get; init; } = 1;
    public bool ShowProgress { get; init; } = true;
    public int CurveEvery { get; init; } = 100;

    public void Validate()
    {
        if (Iterations < 0) throw new ArgumentException($"iterations must be ≥ 0, got {Iterations}");
        if (Ways < 2 || Shots < 1 || Queries < 1 || TasksPerStep < 1) throw new ArgumentException($"need ways ≥ 2, shots ≥ 1, queries ≥ 1, tasks ≥ 1; got {Ways}, {Shots}, {Queries}, {TasksPerStep}");
        if (!(LearningRate > 0)) throw new ArgumentException($"learning rate must be positive, got {LearningRate}");
        if (HalveEvery < 0 || ClipGradNorm < 0) throw new ArgumentException("halve-every and clip must be ≥ 0");
    }

    public double LearningRateAt(int iteration) => HalveEvery > 0 ? LearningRate * Math.Pow(0.5, iteration / HalveEvery) : LearningRate;
}

/// <summary>
/// The one trainer and evaluator that Siamese, Matching, Prototypical and Relation networks share. Training: Adam over
/// the learner's module, one seeded batch of episodes per step (episode i is drawn from a sampler seeded by the run's
/// seed and i, so a resumed run sees the same episodes), through <see cref="TrainingLoop"/> (progress bar, checkpoints,
/// Ctrl-C, resume, NaN check). Evaluation: a fixed set of test episodes that depends only on (ways, shots, queries,
/// evaluation seed), so every method is scored on exactly the same episodes; accuracy per episode, mean and 95% CI.
/// </summary>
public static class EpisodeTrainer
{
    /// <summary>The evaluation seed of the comparison tables: the same for every method.</summary>
    public const long EvaluationSeed = 20_161_205;

    /// <summary>(query, class) pairs scored per evaluation chunk at most.</summary>
    private const int MaxPairsPerChunk = 30_000;

    /// <summary>
    /// Image pixels (H·W) embedded per chunk at most: 1,000 Omniglot images of 28×28. An 84×84 Mini-ImageNet chunk is then
    /// 111 images, whose first 64-filter feature map (111·64·84·84 floats, 200 MB) stays small beside other runs.
    /// </summary>
    private const int MaxPixelsPerEmbedChunk = 1000 * 28 * 28;

    /// <param name="variant">What distinguishes this learner beyond its name (e.g. Matching networks' kernel), for the checkpoint's settings.</param>
    /// <param name="beforeEpisode">Runs before training step i (e.g. a point of a test-accuracy curve); it must leave the model as it found it.</param>
    public static TrainingOutcome Train(IEpisodeLearner learner, ClassIndexedDataset train, EpisodeTrainingOptions options,
                                        string? checkpointPath, CancellationToken cancel = default, string? label = null, string? variant = null,
                                        Action<int>? beforeEpisode = null)
    {
        options.Validate();
        var model = learner.Model;
        model.train();
        using var optimizer = new optim.Adam(model.parameters(), options.LearningRate);
        var parameters = model.parameters();
        var loop = new TrainingLoop(label ?? learner.Name, model, optimizer, options.Iterations, checkpointPath)
        {
            ShowProgress = options.ShowProgress,
            CurveEvery = options.CurveEvery,
            BeforeStep = options.ClipGradNorm > 0 ? () => ClipGradNorm(parameters, options.ClipGradNorm) : null,
            Settings = $"{learner.Name}{(variant is null ? "" : $" ({variant})")}; {options.Ways}-way {options.Shots}-shot {options.Queries}-query ×{options.TasksPerStep}; " +
                       $"Adam {options.LearningRate:g6} halved every {options.HalveEvery}; clip {options.ClipGradNorm:g6}; seed {options.Seed}",
        };
        return loop.Run(i =>
        {
            beforeEpisode?.Invoke(i);
            optimizer.LearningRate = options.LearningRateAt(i);
            using var sampler = new EpisodeSampler(train, options.Ways, options.Shots, options.Queries, StepSeed(options.Seed, i));
            using var batch = sampler.Sample(options.TasksPerStep);
            return learner.Loss(batch, options.Ways);
        }, cancel);
    }

    /// <summary>The seed of training step i: distinct per step and per run seed.</summary>
    public static ulong StepSeed(long seed, int iteration) => unchecked((ulong)seed * 1_000_003UL + (ulong)iteration * 7919UL + 17UL);

    /// <summary>Scales the gradients so that their joint L2 norm is at most maxNorm (torch.nn.utils.clip_grad_norm_).</summary>
    public static void ClipGradNorm(IReadOnlyList<Tensor> parameters, double maxNorm)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var grads = parameters.Select(p => p.grad).Where(g => g is not null).Select(g => g!).ToList();
        if (grads.Count == 0) return;
        var total = Math.Sqrt(grads.Sum(g => g.pow(2).sum().item<double>()));
        var scale = maxNorm / (total + 1e-6);
        if (scale < 1) foreach (var g in grads) g.mul_(scale);
    }

    /// <summary>The sampler of the fixed evaluation episodes for one setting.</summary>
    public static EpisodeSampler EvaluationEpisodes(ClassIndexedDataset test, int ways, int shots, int queries, long seed = EvaluationSeed) =>
        new(test, ways, shots, queries, unchecked((ulong)seed + (ulong)(ways * 1000 + shots * 10)));

    /// <summary>
    /// Accuracy on each of `episodes` fixed test episodes (in eval mode: batch norm uses its running statistics; no
    /// graph). Episodes are drawn `chunk` at a time from <see cref="EvaluationEpisodes"/>. With `embedOnce` (default), a
    /// classifier with per-image embeddings embeds the whole test set once and scores episodes from the embeddings (the
    /// same episodes, much faster for 1,000 episodes); without it, each episode's images go through the model.
    /// </summary>
    public static double[] Evaluate(IEpisodeClassifier classifier, ClassIndexedDataset test, int ways, int shots, int queries = 15,
                                    int episodes = 1000, long seed = EvaluationSeed, int chunk = 50, bool showProgress = false, bool embedOnce = true)
    {
        var model = (classifier as IEpisodeLearner)?.Model;
        var wasTraining = model?.training ?? false;
        model?.eval();
        try
        {
            using var _ = no_grad();
            // Pairwise scorers (relation networks) compare every query with every class: bound a chunk's pairs so that
            // 20-way evaluation fits in memory (50 episodes of 20-way 15-query would be 300,000 feature-map pairs).
            chunk = Math.Clamp(MaxPairsPerChunk / (ways * ways * queries), 1, chunk);
            using var embedded = embedOnce && classifier is IEmbeddingClassifier e ? EmbedAll(e, test, EmbedChunk(test)) : null;
            using var sampler = EvaluationEpisodes(embedded ?? test, ways, shots, queries, seed);
            var progress = showProgress ? new ProgressBar($"eval {classifier.Name} {ways}-way {shots}-shot", episodes) : null;
            var accuracies = new List<double>(episodes);
            while (accuracies.Count < episodes)
            {
                using var scope = NewDisposeScope();
                using var batch = sampler.Sample(Math.Min(chunk, episodes - accuracies.Count));
                var scores = embedded is not null ? ((IEmbeddingClassifier)classifier).ScoresFromEmbeddings(batch, ways) : classifier.Scores(batch, ways);
                accuracies.AddRange(EpisodeMetrics.Accuracy(scores, batch.QueryTargets));
                progress?.Report(accuracies.Count, "");
            }
            progress?.Finish($"{100 * accuracies.Average():0.00}%");
            return accuracies.ToArray();
        }
        finally
        {
            model?.train(wasTraining);
        }
    }

    /// <summary>Images per embedding chunk for this dataset's image size (see <see cref="MaxPixelsPerEmbedChunk"/>).</summary>
    public static int EmbedChunk(ClassIndexedDataset data) =>
        (int)Math.Clamp(MaxPixelsPerEmbedChunk / (data.ImageShape[^1] * data.ImageShape[^2]), 1, 1000);

    /// <summary>Every image of the dataset embedded once (eval mode), as a dataset with the same classes and counts.</summary>
    public static ClassIndexedDataset EmbedAll(IEmbeddingClassifier classifier, ClassIndexedDataset data, int chunk = 1000) =>
        EmbedAll(classifier.EmbedImages, data, chunk);

    /// <summary>As above with any per-image embedding: [n, C, H, W] images → [n, C', H', W'] (call it in eval mode).</summary>
    public static ClassIndexedDataset EmbedAll(Func<Tensor, Tensor> embedImages, ClassIndexedDataset data, int chunk = 1000)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var parts = new List<Tensor>();
        for (var start = 0; start < data.ImageCount; start += chunk)
        {
            using var inner = NewDisposeScope();
            var n = Math.Min(chunk, data.ImageCount - start);
            var raw = data.Images.narrow(0, start, n);
            var images = data.Transform is null ? raw : data.Transform(raw);
            parts.Add(embedImages(images).MoveToOuterDisposeScope());
        }
        var all = cat(parts, 0);
        var counts = Enumerable.Range(0, data.ClassCount).Select(data.Count).ToArray();
        return new ClassIndexedDataset(data.Name + " (embedded)", all, data.ClassNames, counts);
    }

    /// <summary>Mean and 95% CI in percent.</summary>
    public static Summary Percent(IReadOnlyCollection<double> accuracies)
    {
        var s = Summary.Of(accuracies);
        return new Summary(100 * s.Mean, 100 * s.Ci95, s.Count);
    }
}
