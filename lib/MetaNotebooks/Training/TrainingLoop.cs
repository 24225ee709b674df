using System.Diagnostics;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Training;

/// <summary>What a training run reached: iterations done, whether it finished, its loss curve and training time.</summary>
public sealed record TrainingOutcome(int Iterations, bool Completed, IReadOnlyList<double> LossCurve, int CurveEvery, double Seconds);

/// <summary>
/// The one training-loop shape every experiment uses: iteration i runs `step(i)` (which returns the loss), inside its
/// own dispose scope; a progress bar; a checkpoint (model, optimiser, iteration, loss curve with its window in progress, time) every few minutes,
/// at Ctrl-C and at the end; resuming from the checkpoint when it exists. Steps must derive their randomness from the
/// iteration number, so a resumed run draws the same tasks as an uninterrupted one.
/// </summary>
public sealed class TrainingLoop(string name, nn.Module model, optim.Optimizer optimizer, int iterations, string? checkpointPath)
{
    public int CurveEvery { get; init; } = 100;
    public TimeSpan CheckpointInterval { get; init; } = TimeSpan.FromMinutes(2);
    public bool ShowProgress { get; init; } = true;
    /// <summary>Runs between backward and the optimiser step, e.g. gradient clipping.</summary>
    public Action? BeforeStep { get; init; }
    /// <summary>
    /// What makes the run this run (seed, initialisation, episode shape, learning rate …; not its length, which a resumed
    /// run may extend). Kept in the checkpoint: resuming one written with other settings is refused, since it would
    /// report one run's model under another's settings. Null: not checked.
    /// </summary>
    public string? Settings { get; init; }
    /// <summary>
    /// Data-parallel training (<see cref="DataParallel"/>): the step returns this rank's share of the loss (already scaled
    /// by its share of the tasks); the loop sums losses and gradients over ranks, stops all ranks at one iteration, and
    /// only rank 0 shows progress and writes checkpoints. Every rank resumes from the same checkpoint file.
    /// </summary>
    public DataParallel? Parallel { get; init; }

    public TrainingOutcome Run(Func<int, Tensor> step, CancellationToken cancel = default)
    {
        if (iterations < 0) throw new ArgumentOutOfRangeException(nameof(iterations), iterations, "iterations cannot be negative");
        // Ctrl-C, SIGTERM and a notebook kernel's interrupt stop the run cleanly whatever token the caller passes (a notebook
        // cell may pass none, or an experiment's time budget made from none).
        using var interruptible = CancellationTokenSource.CreateLinkedTokenSource(cancel, Interrupt.Token);
        cancel = interruptible.Token;
        var (start, curve, previousSeconds, windowSum, windowCount) = Resume();
        var clock = Stopwatch.StartNew();
        var lastCheckpoint = clock.Elapsed;
        var writer = Parallel?.IsWriter ?? true;
        var progress = ShowProgress && writer ? new ProgressBar(name, iterations, start) : null;
        var i = start;
        for (; i < iterations && !Stops(cancel); i++)
        {
            double loss;
            using (var scope = NewDisposeScope())
            {
                optimizer.zero_grad();
                using var l = step(i);
                loss = l.item<double>();
                // Summed before the check, so that every rank sees the same number and stops together.
                if (Parallel is not null) loss = Parallel.Sum(loss);
                if (!double.IsFinite(loss))
                    throw new InvalidOperationException($"{name}: the loss became {loss} at iteration {i + 1}; lower the learning rate or check the data (the last checkpoint is kept).");
                l.backward();
                Parallel?.SumGradients(model.parameters());
                BeforeStep?.Invoke();
                optimizer.step();
            }
            windowSum += loss;
            if (++windowCount == CurveEvery || i + 1 == iterations)
            {
                curve.Add(windowSum / windowCount);
                (windowSum, windowCount) = (0, 0);
            }
            progress?.Report(i + 1, $"loss {(curve.Count > 0 ? curve[^1] : loss):0.000}");
            if (checkpointPath != null && writer && clock.Elapsed - lastCheckpoint > CheckpointInterval)
            {
                Save(i + 1, curve, windowSum, windowCount, previousSeconds + clock.Elapsed.TotalSeconds);
                lastCheckpoint = clock.Elapsed;
            }
        }
        var seconds = previousSeconds + clock.Elapsed.TotalSeconds;
        if (checkpointPath != null && writer) Save(i, curve, windowSum, windowCount, seconds);
        if (i >= iterations) progress?.Finish($"loss {(curve.Count > 0 ? curve[^1] : double.NaN):0.000}");
        else if (writer) Console.Error.WriteLine($"\n{name}: stopped at iteration {i:N0} of {iterations:N0}; checkpoint saved to {checkpointPath}. Run the same command again to resume.");
        return new TrainingOutcome(i, i >= iterations, curve, CurveEvery, seconds);
    }

    /// <summary>Whether to stop before the next iteration; with several ranks, whether any of them stops.</summary>
    private bool Stops(CancellationToken cancel) =>
        Parallel is null ? cancel.IsCancellationRequested : Parallel.AnyStops(cancel.IsCancellationRequested);

    private (int start, List<double> curve, double seconds, double windowSum, int windowCount) Resume()
    {
        if (checkpointPath == null || !File.Exists(checkpointPath)) return (0, new List<double>(), 0, 0, 0);
        using var scope = NewDisposeScope();
        var state = load(checkpointPath);
        // Refused before anything is loaded: the caller's model keeps its own weights.
        if (Settings is not null && state.TryGetValue("meta.settings", out var saved) && Text(saved) is var written && written != Settings)
            throw new InvalidOperationException($"{name}: the checkpoint {checkpointPath} was written by a run with other settings ({written}) than this one ({Settings}). " +
                                                "Pass --restart to start this run afresh, or run again with the checkpoint's settings to continue it.");
        model.load_state_dict(Prefixed(state, "model."));
        optimizer.load_state_dict(Prefixed(state, "optim."));
        var start = (int)state["meta.iteration"].item<long>();
        var curve = state["meta.loss_curve"].ToArray<double>().ToList();
        var seconds = state["meta.seconds"].item<double>();
        // The loss-curve window in progress, so that a resumed run's curve equals an uninterrupted one's. Checkpoints
        // written before it was kept have none: their window restarts empty, as it always did.
        var windowSum = state.TryGetValue("meta.window_sum", out var sum) ? sum.item<double>() : 0;
        var windowCount = state.TryGetValue("meta.window_count", out var count) ? (int)count.item<long>() : 0;
        if (start > iterations)
            throw new InvalidOperationException($"{name}: the checkpoint {checkpointPath} is at iteration {start:N0}, beyond the requested {iterations:N0}; delete it or pass --restart.");
        Console.Error.WriteLine($"{name}: resuming from {checkpointPath} at iteration {start:N0}.");
        return (start, curve, seconds, windowSum, windowCount);
    }

    private void Save(int iteration, List<double> curve, double windowSum, int windowCount, double seconds)
    {
        using var scope = NewDisposeScope();
        var state = new Dictionary<string, Tensor>();
        foreach (var (k, v) in model.state_dict()) state["model." + k] = v;
        foreach (var (k, v) in optimizer.state_dict()) state["optim." + k] = v;
        state["meta.iteration"] = tensor(new long[] { iteration }, []);
        state["meta.loss_curve"] = tensor(curve.ToArray(), [curve.Count]);
        state["meta.seconds"] = tensor(seconds);
        state["meta.window_sum"] = tensor(windowSum);
        state["meta.window_count"] = tensor(new long[] { windowCount }, []);
        if (Settings is not null) state["meta.settings"] = tensor(System.Text.Encoding.UTF8.GetBytes(Settings));
        save(state, checkpointPath!);
    }

    private static string Text(Tensor utf8) => System.Text.Encoding.UTF8.GetString(utf8.ToArray<byte>());

    private static Dictionary<string, Tensor> Prefixed(Dictionary<string, Tensor> state, string prefix) =>
        state.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);
}
