using System.Text.Json;
using MetaNotebooks.Algorithms.MetaNet;
using MetaNotebooks.Data;
using MetaNotebooks.Results;
using MetaNotebooks.Training;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Experiments;

/// <summary>One point of the continual-learning curve: Omniglot test accuracy (%) after `Trials` MNIST trials.</summary>
public sealed record ContinualPoint(int Trials, int Episodes, double Mean, double Ci95);

/// <summary>
/// Munkhdalai &amp; Yu §5.3: after Omniglot, MetaNet keeps training on MNIST one-shot trials (its own n-way head, the
/// Omniglot recipe: 10 queries per class, Adam 1e−3, clip 10) and its Omniglot test accuracy is measured every
/// <see cref="MetaNetOmniglotConfig.ContinualEvery"/> trials, from trial 0. Does learning a new domain erase the old
/// one? Resumable like every training: its own checkpoint, and the curve kept beside it.
/// </summary>
public sealed class MetaNetContinual(MetaNetOmniglotConfig config, string checkpointPath, string curvePath)
{
    /// <summary>Trains `metanet` (the Omniglot-trained model, or the checkpoint's) on MNIST; returns the phase and its curve, by trials.</summary>
    public (TrainingOutcome Phase, List<ContinualPoint> Curve) Run(MetaNet metanet, ClassIndexedDataset mnist, ClassIndexedDataset omniglotTest,
                                                                     bool showProgress = true, CancellationToken cancel = default)
    {
        var model = metanet.Network;
        var parameters = model.parameters();
        using var optimizer = new optim.Adam(parameters, MetaNetOptions.LearningRate);
        var curve = LoadCurve();
        var loop = new TrainingLoop($"{MetaNetOmniglotConfig.ExperimentName} {config.Slug} continual on MNIST", model, optimizer, config.ContinualTrials, checkpointPath)
        {
            ShowProgress = showProgress,
            BeforeStep = () => EpisodeTrainer.ClipGradNorm(parameters, MetaNetOptions.ClipGradNorm),
            Settings = $"{config.ModelOptions.Name} ({config.Model.Filters} filters); MNIST {config.Ways}-way {config.Shots}-shot {config.Queries}-query after Omniglot; seed {config.Seed}",
        };
        void Measure(int trials)
        {
            if (curve.Any(p => p.Trials == trials)) return;
            var s = EpisodeTrainer.Percent(EpisodeTrainer.Evaluate(metanet, omniglotTest, config.Ways, config.Shots, config.EvalQueries,
                                                                   config.ContinualEvalEpisodes, config.EvalSeed, chunk: 1));
            curve.Add(new ContinualPoint(trials, s.Count, Math.Round(s.Mean, 3), Math.Round(s.Ci95, 3)));
            SaveCurve(curve);
        }
        var phase = loop.Run(i =>
        {
            if (i % config.ContinualEvery == 0) Measure(i);
            using var sampler = new EpisodeSampler(mnist, config.Ways, config.Shots, config.Queries, EpisodeTrainer.StepSeed(config.Seed, i));
            using var batch = sampler.Sample(1);
            return metanet.Loss(batch, config.Ways);
        }, cancel);
        if (!cancel.IsCancellationRequested) Measure(phase.Iterations);
        return (phase, curve.OrderBy(p => p.Trials).ToList());
    }

    private List<ContinualPoint> LoadCurve()
    {
        // The curve belongs to the checkpoint: without one, the phase starts afresh from the Omniglot-trained model.
        if (!File.Exists(checkpointPath) || !File.Exists(curvePath)) return [];
        return JsonSerializer.Deserialize<List<ContinualPoint>>(File.ReadAllText(curvePath), ResultFile.Json) ?? [];
    }

    private void SaveCurve(List<ContinualPoint> curve)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(curvePath)!);
        AtomicFile.WriteAllText(curvePath, JsonSerializer.Serialize(curve.OrderBy(p => p.Trials).ToList(), ResultFile.Json) + "\n");
    }
}
