using MetaNotebooks.Algorithms;
using MetaNotebooks.Models;
using MetaNotebooks.Tasks;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Cli.Bench.Benchmarks;

/// <summary>
/// One second-order MAML meta-iteration on sine regression (meta-batch 25, K = 10, one inner step, Adam), as
/// ../shared/bench/maml_sine_torch.py (one task after another) and maml_sine_torch_batched.py (all tasks batched).
/// </summary>
public abstract class MamlSineBenchmark(bool batched, bool firstOrder = false) : IBenchmark
{
    public abstract string Name { get; }
    public string Measures => $"one {(firstOrder ? "first" : "second")}-order MAML meta-iteration, sine, meta-batch 25, K = 10, " +
                              $"{(batched ? "whole meta-batch batched" : "one task after another")}, Adam step included";

    public Measurement RunOurs(BenchSettings settings)
    {
        using var model = new Mlp(1, 40, 40, 1);
        using var optimizer = new optim.Adam(model.parameters(), 1e-3);
        using var tasks = new SineTasks(10, 10, seed: 0);
        var maml = new Maml(model, TaskLosses.MeanSquaredError, new MamlOptions { InnerSteps = 1, InnerLearningRate = 0.01, FirstOrder = firstOrder });
        // Warm up for at least a second: 50 batched iterations (~0.1 s) end before tiered JIT has compiled the binding's
        // hot paths: the first ~0.9 s took 10–35% more CPU per iteration (tier-0 code) than the rest, and more wall time while the
        // background compiler shared the machine. The Python peer has no JIT to wait for.
        return Harness.Run(() =>
        {
            using var scope = NewDisposeScope();
            using var batch = tasks.Sample(25);
            optimizer.zero_grad();
            var loss = batched ? maml.MetaLossBatched(batch) : maml.MetaLoss(batch);
            loss.backward();
            optimizer.step();
        }, Harness.Macro(settings.Pick(50, 5), settings.Pick(batched ? 400 : 60, 10)) with { WarmupTime = settings.Quick ? TimeSpan.Zero : TimeSpan.FromSeconds(1) });
    }

    public abstract PeerCommand? Peer(BenchSettings settings);
}

public sealed class MamlSineLoopBenchmark() : MamlSineBenchmark(batched: false)
{
    public override string Name => "maml.sine.loop";
    public override PeerCommand Peer(BenchSettings s) =>
        PeerCommand.RateValue("maml_sine_torch.py", [s.Pick("100", "5"), s.Threads.ToString(), "1"], "it/s");
}

public sealed class MamlSineBatchedBenchmark() : MamlSineBenchmark(batched: true)
{
    public override string Name => "maml.sine.batched";
    public override PeerCommand Peer(BenchSettings s) =>
        PeerCommand.RateValue("maml_sine_torch_batched.py", [s.Pick("1000", "10"), s.Threads.ToString()], "batched it/s");
}

/// <summary>Our batched meta-iteration against the peer's one-task-at-a-time loop: what batching buys.</summary>
public sealed class MamlSineBatchedVsLoopBenchmark() : MamlSineBenchmark(batched: true)
{
    public override string Name => "maml.sine.batched-vs-peer-loop";
    public override PeerCommand Peer(BenchSettings s) =>
        PeerCommand.RateValue("maml_sine_torch.py", [s.Pick("100", "5"), s.Threads.ToString(), "1"], "it/s");
}

public sealed class FirstOrderMamlSineLoopBenchmark() : MamlSineBenchmark(batched: false, firstOrder: true)
{
    public override string Name => "maml.sine.first-order-loop";
    public override PeerCommand Peer(BenchSettings s) =>
        PeerCommand.RateValue("maml_sine_torch.py", [s.Pick("100", "5"), s.Threads.ToString(), "0"], "it/s");
}
